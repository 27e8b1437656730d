{#- One row per day from 2015-01-01 for 10,000 days (into 2042): the time spine MetricFlow needs for the
    semantic models' metrics. Built from digit cross joins so it is the same SQL on every engine. -#}

with

digits as (

    select 0 as digit
    union all
    select 1
    union all
    select 2
    union all
    select 3
    union all
    select 4
    union all
    select 5
    union all
    select 6
    union all
    select 7
    union all
    select 8
    union all
    select 9

),

day_numbers as (

    select thousands.digit * 1000 + hundreds.digit * 100 + tens.digit * 10 + units.digit as day_number
    from digits as thousands
    cross join digits as hundreds
    cross join digits as tens
    cross join digits as units

),

final as (

    select {{ date_add_days("cast('2015-01-01' as date)", 'day_number') }} as date_day
    from day_numbers

)

select * from final
