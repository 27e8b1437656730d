{#- Distinct active users per product and calendar month. Daily counts cannot be added up into a month (a
    user active on ten days would count ten times), so the month is counted from the events themselves. -#}

with

events as (

    select * from {{ ref('stg_events__business_events') }}
    where event_type = 'active_user'

),

final as (

    select
        product,
        cast({{ month_start('occurred_at') }} as date) as activity_month,
        count(distinct user_key) as active_users
    from events
    group by product, cast({{ month_start('occurred_at') }} as date)

)

select * from final
