{#- How much of each service's usage commitments covered, per month, provider and billing currency, at
    contracted (pre-commitment) prices, and the savings rate of the service's usage. Services with the
    most uncovered usage first: where a new commitment would save most. GCP's committed-use fee is not
    linked to the usage it covers in FOCUS (see commitment_utilization), so GCP savings rates here leave
    the fee out and read high.
        dbt compile --select commitment_coverage_by_service --vars '{coverage_month: "2026-09-01"}'
    Without vars: every month. -#}

{%- set month = var('coverage_month', none) -%}

with

focus_costs as (

    select * from {{ ref('focus_costs') }}

),

usage as (

    select
        cast({{ month_start('ChargePeriodStart') }} as date) as charge_month,
        x_SourceProvider,
        BillingCurrency,
        ServiceName,
        ContractedCost,
        EffectiveCost,
        CommitmentDiscountStatus = 'Used' as is_covered
    from focus_costs
    where ChargeCategory = 'Usage' and coalesce(CommitmentDiscountStatus, 'Used') = 'Used'

),

services as (

    select
        charge_month,
        x_SourceProvider,
        BillingCurrency,
        ServiceName,
        sum(ContractedCost) as eligible_contracted_cost,
        sum(case when is_covered then ContractedCost else 0 end) as covered_contracted_cost,
        sum(case when is_covered then 0 else ContractedCost end) as uncovered_contracted_cost,
        sum(EffectiveCost) as effective_cost
    from usage
    {%- if month %}
    where charge_month = cast('{{ month }}' as date)
    {%- endif %}
    group by charge_month, x_SourceProvider, BillingCurrency, ServiceName

)

select
    *,
    case
        when eligible_contracted_cost > 0
            then {{ divide_decimal('covered_contracted_cost', 'eligible_contracted_cost') }}
    end as coverage,
    case
        when eligible_contracted_cost > 0
            then {{ divide_decimal('eligible_contracted_cost - effective_cost', 'eligible_contracted_cost') }}
    end as effective_savings_rate
from services
where eligible_contracted_cost <> 0
order by charge_month desc, BillingCurrency asc, uncovered_contracted_cost desc
