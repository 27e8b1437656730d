{#- Every FOCUS row once per owner share: whole to its owner when a direct tag, a virtual-tag rule or the
    sub account's owner decides (share 1), split between consumers by a shared-cost rule, or whole as
    `unallocated`. The parts of a row add up to its BilledCost and EffectiveCost exactly, so every total of
    this table equals the same total of focus_costs. -#}

with

resolved as (

    select * from {{ ref('int_allocation__owners_resolved') }}

),

shared_split as (

    select * from {{ ref('int_allocation__shared_costs_split') }}

),

org_hierarchy as (

    select * from {{ ref('org_hierarchy') }}

),

owned as (

    select
        x_RowKey,
        owner_team as team,
        owner_rule_id as allocation_rule_id,
        owner_method as allocation_method,
        {{ to_money(1) }} as share,
        cast(null as {{ money_type() }}) as split_basis,
        cast(null as {{ money_type() }}) as split_basis_total,
        BilledCost as allocated_billed_cost,
        EffectiveCost as allocated_effective_cost
    from resolved
    where owner_team is not null

),

allocations as (

    select * from owned
    union all
    select
        x_RowKey,
        team,
        allocation_rule_id,
        allocation_method,
        share,
        basis as split_basis,
        basis_total as split_basis_total,
        allocated_billed_cost,
        allocated_effective_cost
    from shared_split

),

final as (

    select
        resolved.x_RowKey,
        resolved.x_SourceProvider,
        resolved.ProviderName,
        resolved.BillingAccountId,
        resolved.BillingAccountName,
        resolved.BillingCurrency,
        resolved.BillingPeriodStart,
        resolved.ChargePeriodStart,
        resolved.ChargePeriodEnd,
        resolved.charge_date,
        resolved.ChargeCategory,
        resolved.ChargeFrequency,
        resolved.ServiceCategory,
        resolved.ServiceName,
        resolved.SubAccountId,
        resolved.SubAccountName,
        resolved.RegionId,
        resolved.ResourceId,
        resolved.ResourceName,
        resolved.env,
        resolved.team_tag,
        allocations.team,
        coalesce(org_hierarchy.business_unit, 'unallocated') as business_unit,
        coalesce(org_hierarchy.cost_center, 'unallocated') as cost_center,
        allocations.allocation_rule_id,
        allocations.allocation_method,
        cast(allocations.share as {{ money_type() }}) as share,
        cast(allocations.split_basis as {{ money_type() }}) as split_basis,
        cast(allocations.split_basis_total as {{ money_type() }}) as split_basis_total,
        cast(resolved.BilledCost as {{ money_type() }}) as source_billed_cost,
        cast(resolved.EffectiveCost as {{ money_type() }}) as source_effective_cost,
        cast(allocations.allocated_billed_cost as {{ money_type() }}) as allocated_billed_cost,
        cast(allocations.allocated_effective_cost as {{ money_type() }}) as allocated_effective_cost,
        resolved.x_ExchangeRate
    from allocations
    inner join resolved on allocations.x_RowKey = resolved.x_RowKey
    left join org_hierarchy on allocations.team = org_hierarchy.team

)

select * from final
