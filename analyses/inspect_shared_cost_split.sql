{#- One shared charge and how it was split: the source FOCUS row, the rule that split it, and for each
    consumer its basis (owned effective cost in the rule's scope over the charge's days), its share and
    its amount. The parts add up to the source row exactly.
        dbt compile --select inspect_shared_cost_split --vars '{split_row_key: <x_RowKey>}'
    Without vars: the largest shared charge of the latest day that has one. -#}

{%- set row_key = var('split_row_key', none) -%}
{%- set chosen_row = "x_RowKey = '" ~ row_key ~ "'" if row_key else 'pick = 1' -%}

with

allocated_costs as (

    select * from {{ ref('allocated_costs') }}

),

shared_cost_rules as (

    select * from {{ ref('shared_cost_rules') }}

),

fixed_shares as (

    select * from {{ ref('shared_cost_fixed_shares') }}

),

-- Rows a shared-cost rule handled: split between consumers, or left unallocated for want of any.
shared_charges as (

    select
        allocated_costs.x_RowKey,
        row_number() over (
            order by
                allocated_costs.charge_date desc,
                abs(allocated_costs.source_effective_cost) desc,
                allocated_costs.x_RowKey asc
        ) as pick
    from allocated_costs
    inner join shared_cost_rules on allocated_costs.allocation_rule_id = shared_cost_rules.rule_id

),

chosen as (

    select x_RowKey
    from shared_charges
    where {{ chosen_row }}

),

final as (

    select
        allocated_costs.x_RowKey,
        allocated_costs.ChargePeriodStart,
        allocated_costs.ChargePeriodEnd,
        allocated_costs.x_SourceProvider,
        allocated_costs.BillingAccountId,
        allocated_costs.SubAccountId,
        allocated_costs.SubAccountName,
        allocated_costs.ServiceName,
        allocated_costs.ChargeCategory,
        allocated_costs.ResourceId,
        allocated_costs.BillingCurrency,
        allocated_costs.source_billed_cost,
        allocated_costs.source_effective_cost,
        allocated_costs.allocation_rule_id,
        allocated_costs.allocation_method,
        shared_cost_rules.basis_scope,
        shared_cost_rules.description as rule_description,
        allocated_costs.team as consumer_team,
        allocated_costs.business_unit as consumer_business_unit,
        allocated_costs.split_basis as consumer_basis,
        allocated_costs.split_basis_total as basis_total,
        fixed_shares.percentage as fixed_percentage,
        allocated_costs.share,
        allocated_costs.allocated_billed_cost,
        allocated_costs.allocated_effective_cost
    from allocated_costs
    inner join chosen on allocated_costs.x_RowKey = chosen.x_RowKey
    left join shared_cost_rules on allocated_costs.allocation_rule_id = shared_cost_rules.rule_id
    left join fixed_shares
        on
            allocated_costs.allocation_rule_id = fixed_shares.rule_id
            and allocated_costs.team = fixed_shares.team

)

select *
from final
order by share desc, consumer_team asc
