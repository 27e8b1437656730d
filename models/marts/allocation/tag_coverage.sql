{#- How much of each account's effective cost has an owner, per provider, billing account, sub account and
    day. The ratios divide by the day's total effective cost and are null when that total is zero or
    negative (a day of credits), where a share of cost has no meaning. -#}

with

allocated_costs as (

    select * from {{ ref('allocated_costs') }}

),

daily as (

    select
        x_SourceProvider,
        BillingAccountId,
        SubAccountId,
        max(SubAccountName) as SubAccountName,
        charge_date,
        BillingCurrency,
        {{ to_money('sum(allocated_effective_cost)') }} as effective_cost,
        {{ to_money(
            "sum(case when allocation_method = 'direct_tag' then allocated_effective_cost else 0 end)"
        ) }} as direct_tag_effective_cost,
        {{ to_money(
            "sum(case when allocation_method = 'virtual_tag' then allocated_effective_cost else 0 end)"
        ) }} as virtual_tag_effective_cost,
        {{ to_money(
            "sum(case when allocation_method = 'sub_account_owner' then allocated_effective_cost else 0 end)"
        ) }} as sub_account_owner_effective_cost,
        {{ to_money(
            "sum(case when allocation_method like 'shared%' then allocated_effective_cost else 0 end)"
        ) }} as shared_effective_cost,
        {{ to_money(
            "sum(case when allocation_method = 'unallocated' then allocated_effective_cost else 0 end)"
        ) }} as unallocated_effective_cost,
        -- a team tag that did not decide the owner names a team the org chart does not know
        {{ to_money(
            "sum(case when team_tag is not null and allocation_method <> 'direct_tag'"
            ~ " then allocated_effective_cost else 0 end)"
        ) }} as unknown_team_tag_effective_cost
    from allocated_costs
    group by x_SourceProvider, BillingAccountId, SubAccountId, charge_date, BillingCurrency

),

final as (

    select
        *,
        case
            when effective_cost > 0 then {{ divide_decimal('direct_tag_effective_cost', 'effective_cost') }}
        end as tag_coverage,
        case
            when effective_cost > 0
                then {{ divide_decimal(
                    'direct_tag_effective_cost + virtual_tag_effective_cost + sub_account_owner_effective_cost',
                    'effective_cost',
                ) }}
        end as owner_coverage,
        case
            when effective_cost > 0
                then {{ divide_decimal('effective_cost - unallocated_effective_cost', 'effective_cost') }}
        end as allocated_coverage
    from daily

)

select * from final
