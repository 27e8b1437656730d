{#- Daily effective cost per forecast series, split into usage and calendar-driven (scheduled) charges.

    Series: the total, each provider and each service category in the reporting currency (they add up
    across billing currencies, as the overview charts them), and each business unit and team in its
    billing currency (budgets are set per billing currency). Usage-Based charges follow consumption;
    Recurring and One-Time ones (fees, taxes, amortised commitments, purchases, credits) follow the
    calendar and are forecast apart. One row per series and day with charges; days without are zero. -#}

{{ config(materialized='table') }}

with

focus_costs as (

    select
        cast(ChargePeriodStart as date) as charge_date,
        x_SourceProvider,
        ServiceCategory,
        ChargeFrequency = 'Usage-Based' as is_usage,
        x_EffectiveCostInReportingCurrency
    from {{ ref('focus_costs') }}

),

allocated_costs as (

    select
        charge_date,
        business_unit,
        team,
        BillingCurrency,
        ChargeFrequency = 'Usage-Based' as is_usage,
        allocated_effective_cost
    from {{ ref('allocated_costs') }}

),

-- Aggregated once to a few thousand rows, so the roll-ups below never rescan the cost tables.
reporting_daily as (

    select
        charge_date,
        x_SourceProvider,
        ServiceCategory,
        is_usage,
        sum(x_EffectiveCostInReportingCurrency) as effective_cost
    from focus_costs
    group by charge_date, x_SourceProvider, ServiceCategory, is_usage

),

billing_daily as (

    select
        charge_date,
        business_unit,
        team,
        BillingCurrency,
        is_usage,
        sum(allocated_effective_cost) as effective_cost
    from allocated_costs
    group by charge_date, business_unit, team, BillingCurrency, is_usage

),

series_rows as (

    select
        'total' as series_type,
        'all' as series_key,
        '{{ var("reporting_currency") }}' as currency,
        charge_date,
        is_usage,
        effective_cost
    from reporting_daily
    union all
    select
        'provider' as series_type,
        x_SourceProvider as series_key,
        '{{ var("reporting_currency") }}' as currency,
        charge_date,
        is_usage,
        effective_cost
    from reporting_daily
    union all
    select
        'service_category' as series_type,
        ServiceCategory as series_key,
        '{{ var("reporting_currency") }}' as currency,
        charge_date,
        is_usage,
        effective_cost
    from reporting_daily
    union all
    select
        'business_unit' as series_type,
        business_unit as series_key,
        BillingCurrency as currency,
        charge_date,
        is_usage,
        effective_cost
    from billing_daily
    union all
    select
        'team' as series_type,
        team as series_key,
        BillingCurrency as currency,
        charge_date,
        is_usage,
        effective_cost
    from billing_daily

),

final as (

    select
        series_type,
        series_key,
        currency,
        charge_date,
        {{ to_money("sum(case when is_usage then effective_cost else 0 end)") }} as usage_cost,
        {{ to_money("sum(case when is_usage then 0 else effective_cost end)") }} as scheduled_cost
    from series_rows
    group by series_type, series_key, currency, charge_date

)

select * from final
