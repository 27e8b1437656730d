{#- The exchange rate into the reporting currency (var reporting_currency) for every day that has charges,
    per billing currency (and every day with business-event revenue, per revenue currency): the latest known rate on or before that day. Known rates are the loaded ones
    (raw_fx.rates) and the fx_rates seed; where both have a rate for the same date, the loaded one wins.
    A rate stands until the next known one, so the days between (a weekend for daily rates, the rest of the
    month for the monthly seed) take the earlier rate. The reporting currency converts to itself at 1. A
    day before its currency's first known rate gets no rate: focus_costs keeps such rows with null
    converted amounts, and a test on it fails the build. -#}

{%- set reporting_currency = var('reporting_currency') -%}

with

loaded_rates as (

    select
        rate_date,
        from_currency,
        rate,
        'loaded' as rate_source
    from {{ ref('stg_fx__rates') }}
    where to_currency = '{{ reporting_currency }}'

),

seed_rates as (

    select
        seed.rate_date,
        seed.from_currency,
        {{ to_exchange_rate('seed.rate') }} as rate,
        'seed' as rate_source
    from {{ ref('fx_rates') }} as seed
    left join loaded_rates
        on
            seed.rate_date = loaded_rates.rate_date
            and seed.from_currency = loaded_rates.from_currency
    where seed.to_currency = '{{ reporting_currency }}' and loaded_rates.rate_date is null

),

known_rates as (

    select * from loaded_rates
    union all
    select * from seed_rates

),

-- Every source of billed cost, as the day and currency of its FOCUS ChargePeriodStart and BillingCurrency.
charge_days as (

    select distinct
        cast(usage_start as date) as charge_day,
        currency_code as currency
    from {{ ref('stg_aws_cur__line_items') }}

    union

    select distinct
        cast(charge_date as date) as charge_day,
        billing_currency as currency
    from {{ ref('stg_azure_cost__cost_details') }}

    union

    select distinct
        cast(usage_start as date) as charge_day,
        currency
    from {{ ref('stg_gcp_billing__billing_export') }}

    union

    -- Revenue of business events, converted for unit economics.
    select distinct
        cast(occurred_at as date) as charge_day,
        currency
    from {{ ref('stg_events__business_events') }}
    where currency is not null

),

rates_on_or_before as (

    select
        charge_days.charge_day,
        charge_days.currency,
        known_rates.rate_date,
        known_rates.rate,
        known_rates.rate_source,
        row_number() over (
            partition by charge_days.charge_day, charge_days.currency
            order by known_rates.rate_date desc
        ) as recency
    from charge_days
    inner join known_rates
        on
            charge_days.currency = known_rates.from_currency
            and charge_days.charge_day >= known_rates.rate_date

),

final as (

    select
        charge_days.charge_day,
        charge_days.currency as from_currency,
        '{{ reporting_currency }}' as to_currency,
        case
            when charge_days.currency = '{{ reporting_currency }}' then {{ to_exchange_rate(1) }}
            else latest.rate
        end as exchange_rate,
        case when charge_days.currency <> '{{ reporting_currency }}' then latest.rate_date end as rate_date,
        case
            when charge_days.currency = '{{ reporting_currency }}' then 'identity'
            else latest.rate_source
        end as rate_source
    from charge_days
    left join rates_on_or_before as latest
        on
            charge_days.charge_day = latest.charge_day
            and charge_days.currency = latest.currency
            and latest.recency = 1

)

select * from final
