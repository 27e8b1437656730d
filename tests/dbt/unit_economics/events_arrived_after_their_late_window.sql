{{ config(severity='warn') }}

{#- Events that arrived later than var events_late_days after the last build of their day are in staging
    but not yet in int_events__daily_volumes (the incremental build only recounts the late window). This
    warns instead of failing: the numbers are short, not wrong, and
    `finops build --full-refresh -s int_events__daily_volumes+` counts them. Returns each day and product
    whose counts differ. -#}

with

staged as (

    select
        cast(occurred_at as date) as event_date,
        product,
        count(*) as events
    from {{ ref('stg_events__business_events') }}
    group by cast(occurred_at as date), product

),

counted as (

    select
        event_date,
        product,
        sum(events) as events
    from {{ ref('int_events__daily_volumes') }}
    group by event_date, product

)

select
    staged.event_date,
    staged.product,
    staged.events as staged_events,
    coalesce(counted.events, 0) as counted_events
from staged
left join counted on staged.event_date = counted.event_date and staged.product = counted.product
where staged.events <> coalesce(counted.events, 0)
