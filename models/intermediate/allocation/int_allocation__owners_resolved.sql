{#- Every FOCUS row with the owner the first three steps of the allocation hierarchy give it:
      1. direct tag: a `team` tag whose normalised value is a team in org_hierarchy;
      2. virtual tag: the first allocation_rules row (lowest priority, then rule_id) whose provider,
         sub account, service and resource-name pattern all match (an empty selector matches anything);
      3. sub-account owner: the team org_sub_accounts names for the account, subscription or project.
    Rows none of these own (shared accounts, payer charges, unknown accounts) have a null owner_team and go
    on to the shared-cost rules. One row per FOCUS row. -#}

with

focus_costs as (

    select
        x_RowKey,
        x_SourceProvider,
        ProviderName,
        BillingAccountId,
        BillingAccountName,
        BillingCurrency,
        BillingPeriodStart,
        ChargePeriodStart,
        ChargePeriodEnd,
        ChargeCategory,
        ChargeFrequency,
        ServiceCategory,
        ServiceName,
        SubAccountId,
        SubAccountName,
        RegionId,
        ResourceId,
        ResourceName,
        Tags,
        BilledCost,
        EffectiveCost,
        x_ExchangeRate
    from {{ ref('focus_costs') }}

),

tag_values as (

    select * from {{ ref('int_allocation__tag_values_normalised') }}

),

allocation_rules as (

    select * from {{ ref('allocation_rules') }}

),

sub_accounts as (

    select * from {{ ref('org_sub_accounts') }}

),

tagged as (

    select
        focus_costs.*,
        cast(focus_costs.ChargePeriodStart as date) as charge_date,
        -- The days a charge covers: a daily row its own day, a monthly fee or tax its whole period. A row
        -- that ends on the day it starts (hourly data) still covers that one day.
        case
            when cast(focus_costs.ChargePeriodEnd as date) > cast(focus_costs.ChargePeriodStart as date)
                then cast(focus_costs.ChargePeriodEnd as date)
            else {{ date_add_days('cast(focus_costs.ChargePeriodStart as date)', 1) }}
        end as charge_end_date,
        tag_values.team_value as tag_team_value,
        tag_values.tag_team,
        tag_values.tag_env
    from focus_costs
    left join tag_values on focus_costs.Tags = tag_values.focus_tags

),

virtual_tag_candidates as (

    select
        tagged.x_RowKey,
        allocation_rules.rule_id,
        allocation_rules.team,
        row_number() over (
            partition by tagged.x_RowKey
            order by allocation_rules.priority, allocation_rules.rule_id
        ) as match_rank
    from tagged
    inner join allocation_rules
        on
            (allocation_rules.provider is null or tagged.x_SourceProvider = allocation_rules.provider)
            and (allocation_rules.sub_account_id is null or tagged.SubAccountId = allocation_rules.sub_account_id)
            and (allocation_rules.service_name is null or tagged.ServiceName = allocation_rules.service_name)
            and (
                allocation_rules.resource_name_like is null
                or tagged.ResourceName like allocation_rules.resource_name_like
            )
    where tagged.tag_team is null

),

virtual_tags as (

    select
        x_RowKey,
        rule_id,
        team
    from virtual_tag_candidates
    where match_rank = 1

),

resolved as (

    select
        tagged.*,
        sub_accounts.env as sub_account_env,
        case
            when tagged.tag_team is not null then tagged.tag_team
            when virtual_tags.team is not null then virtual_tags.team
            else sub_accounts.owner_team
        end as owner_team,
        case
            when tagged.tag_team is not null then 'tag:team'
            when virtual_tags.team is not null then virtual_tags.rule_id
            when sub_accounts.owner_team is not null
                then 'owner:' || tagged.x_SourceProvider || ':' || tagged.SubAccountId
        end as owner_rule_id,
        case
            when tagged.tag_team is not null then 'direct_tag'
            when virtual_tags.team is not null then 'virtual_tag'
            when sub_accounts.owner_team is not null then 'sub_account_owner'
        end as owner_method
    from tagged
    left join virtual_tags on tagged.x_RowKey = virtual_tags.x_RowKey
    left join sub_accounts
        on
            tagged.x_SourceProvider = sub_accounts.provider
            and tagged.SubAccountId = sub_accounts.sub_account_id

),

final as (

    select
        x_RowKey,
        x_SourceProvider,
        ProviderName,
        BillingAccountId,
        BillingAccountName,
        BillingCurrency,
        BillingPeriodStart,
        ChargePeriodStart,
        ChargePeriodEnd,
        charge_date,
        charge_end_date,
        ChargeCategory,
        ChargeFrequency,
        ServiceCategory,
        ServiceName,
        SubAccountId,
        SubAccountName,
        RegionId,
        ResourceId,
        ResourceName,
        tag_team_value as team_tag,
        coalesce(tag_env, sub_account_env) as env,
        owner_team,
        owner_rule_id,
        owner_method,
        BilledCost,
        EffectiveCost,
        x_ExchangeRate
    from resolved

)

select * from final
