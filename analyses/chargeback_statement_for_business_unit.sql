{#- The chargeback statement of one business unit for one month: each team's cost by provider and service
    category, the team subtotals and the business unit total, per billing currency, with the part that
    came from shared-cost splits.
        dbt compile --select chargeback_statement_for_business_unit \
            --vars '{chargeback_business_unit: data, chargeback_month: "2026-09-01"}'
    Without vars: the commerce business unit and the latest month with data. -#}

{%- set business_unit = var('chargeback_business_unit', 'commerce') -%}
{%- set month = var('chargeback_month', none) -%}
{%- set month_expression = "cast('" ~ month ~ "' as date)" if month else 'max(charge_month)' -%}

with

showback_monthly as (

    select * from {{ ref('showback_monthly') }}

),

statement_month as (

    select {{ month_expression }} as charge_month
    from showback_monthly

),

lines as (

    select showback_monthly.*
    from showback_monthly
    inner join statement_month on showback_monthly.charge_month = statement_month.charge_month
    where showback_monthly.business_unit = '{{ business_unit }}'

),

team_lines as (

    select
        charge_month,
        business_unit,
        BillingCurrency,
        team,
        cost_center,
        x_SourceProvider,
        ServiceCategory,
        'line' as line_type,
        sum(billed_cost) as billed_cost,
        sum(effective_cost) as effective_cost,
        sum(shared_effective_cost) as of_which_shared
    from lines
    group by charge_month, business_unit, BillingCurrency, team, cost_center, x_SourceProvider, ServiceCategory

),

team_totals as (

    select
        charge_month,
        business_unit,
        BillingCurrency,
        team,
        cost_center,
        cast(null as varchar) as x_SourceProvider,
        cast(null as varchar) as ServiceCategory,
        'team total' as line_type,
        sum(billed_cost) as billed_cost,
        sum(effective_cost) as effective_cost,
        sum(shared_effective_cost) as of_which_shared
    from lines
    group by charge_month, business_unit, BillingCurrency, team, cost_center

),

business_unit_totals as (

    select
        charge_month,
        business_unit,
        BillingCurrency,
        cast(null as varchar) as team,
        cast(null as varchar) as cost_center,
        cast(null as varchar) as x_SourceProvider,
        cast(null as varchar) as ServiceCategory,
        'business unit total' as line_type,
        sum(billed_cost) as billed_cost,
        sum(effective_cost) as effective_cost,
        sum(shared_effective_cost) as of_which_shared
    from lines
    group by charge_month, business_unit, BillingCurrency

),

statement as (

    select * from team_lines
    union all
    select * from team_totals
    union all
    select * from business_unit_totals

)

select *
from statement
order by
    BillingCurrency asc,
    case when line_type = 'business unit total' then 1 else 0 end asc,
    team asc,
    case when line_type = 'team total' then 1 else 0 end asc,
    x_SourceProvider asc,
    ServiceCategory asc
