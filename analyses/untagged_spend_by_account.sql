{#- Effective cost without a valid `team` tag per account and month, and where the allocation sent it:
    a virtual-tag rule, the account's owner, a shared-cost split, or unallocated. Accounts with the most
    untagged cost first: the places where tagging pays off. -#}

with

tag_coverage as (

    select * from {{ ref('tag_coverage') }}

),

monthly as (

    select
        cast({{ month_start('charge_date') }} as date) as charge_month,
        x_SourceProvider,
        BillingAccountId,
        SubAccountId,
        max(SubAccountName) as SubAccountName,
        BillingCurrency,
        sum(effective_cost) as effective_cost,
        sum(effective_cost - direct_tag_effective_cost) as untagged_effective_cost,
        sum(virtual_tag_effective_cost) as to_virtual_tag,
        sum(sub_account_owner_effective_cost) as to_sub_account_owner,
        sum(shared_effective_cost) as to_shared_split,
        sum(unallocated_effective_cost) as unallocated,
        sum(unknown_team_tag_effective_cost) as tagged_with_unknown_team
    from tag_coverage
    group by
        cast({{ month_start('charge_date') }} as date),
        x_SourceProvider,
        BillingAccountId,
        SubAccountId,
        BillingCurrency

)

select
    *,
    case
        when effective_cost > 0 then {{ divide_decimal('untagged_effective_cost', 'effective_cost') }}
    end as untagged_share
from monthly
where untagged_effective_cost <> 0
order by charge_month desc, BillingCurrency asc, untagged_effective_cost desc
