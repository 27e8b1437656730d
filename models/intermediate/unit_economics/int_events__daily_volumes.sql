{#- Business events counted per product, business unit, event type and UTC day: events, summed quantity,
    distinct (pseudonymised) users and revenue per currency. Incremental: a build recounts the days from
    var events_late_days before the latest counted day onwards (delete+insert per day), so late events
    update their own day and no other. -#}

{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='event_date',
        on_schema_change='fail',
    )
}}

with

events as (

    select * from {{ ref('stg_events__business_events') }}
    {% if is_incremental() %}
        where
            cast(occurred_at as date) >= (
                select {{ date_add_days('max(event_date)', -var('events_late_days')) }}
                from {{ this }}
            )
    {% endif %}

),

final as (

    select
        cast(occurred_at as date) as event_date,
        product,
        business_unit,
        event_type,
        coalesce(currency, '') as revenue_currency,
        count(*) as events,
        sum(quantity) as quantity,
        count(distinct user_key) as distinct_users,
        {{ to_money('coalesce(sum(revenue), 0)') }} as revenue,
        max(loaded_at) as loaded_at
    from events
    group by cast(occurred_at as date), product, business_unit, event_type, coalesce(currency, '')

)

select * from final
