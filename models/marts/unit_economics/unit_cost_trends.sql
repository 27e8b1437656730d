{#- Does unit cost fall as volume grows? Per product and volume metric, over the last var unit_trend_days
    days: the elasticity of cost to volume, the slope of ln(weekly cost) on ln(weekly volume). Whole weeks
    are used because within a week volume swings (weekends) while much of the cost does not, which would
    read as economies of scale that are not there. Below 0.9, cost grows more slowly than volume and the
    unit cost falls as volume grows; from 0.9 to 1.1 cost moves in step with volume; above, each unit gets
    dearer. The unit cost and volume of the first and last week show the same in plain numbers. -#}

with

unit_costs_daily as (

    select * from {{ ref('unit_costs_daily') }}

),

window_bounds as (

    select
        max(activity_date) as last_date,
        {{ date_add_days('max(activity_date)', 1 - var('unit_trend_days')) }} as first_date
    from unit_costs_daily

),

in_window as (

    select
        unit_costs_daily.*,
        -- Weeks counted back from the last day, so the latest week is always whole.
        floor({{ days_between('unit_costs_daily.activity_date', 'window_bounds.last_date') }} / 7) as weeks_back
    from unit_costs_daily
    cross join window_bounds
    where unit_costs_daily.activity_date >= window_bounds.first_date

),

metrics as (

    select
        product,
        weeks_back,
        activity_date,
        allocated_cost,
        'transactions' as volume_metric,
        transactions as volume
    from in_window
    union all
    select
        product,
        weeks_back,
        activity_date,
        allocated_cost,
        'active_users' as volume_metric,
        active_users as volume
    from in_window
    union all
    select
        product,
        weeks_back,
        activity_date,
        allocated_cost,
        'api_calls' as volume_metric,
        api_calls as volume
    from in_window

),

weekly as (

    select
        product,
        volume_metric,
        weeks_back,
        min(activity_date) as week_start,
        sum(allocated_cost) as cost,
        sum(volume) as volume
    from metrics
    group by product, volume_metric, weeks_back
    having count(*) = 7

),

used_weeks as (

    select
        *,
        row_number() over (partition by product, volume_metric order by weeks_back desc) as from_first,
        row_number() over (partition by product, volume_metric order by weeks_back) as from_last
    from weekly
    where cost > 0 and volume > 0

),

fitted as (

    select
        product,
        volume_metric,
        min(week_start) as first_week_start,
        max(week_start) as last_week_start,
        count(*) as weeks,
        regr_slope(ln(cast(cost as double)), ln(cast(volume as double))) as elasticity,
        regr_r2(ln(cast(cost as double)), ln(cast(volume as double))) as r_squared,
        sum(case when from_first = 1 then cost end) as first_week_cost,
        sum(case when from_first = 1 then volume end) as first_week_volume,
        sum(case when from_last = 1 then cost end) as last_week_cost,
        sum(case when from_last = 1 then volume end) as last_week_volume
    from used_weeks
    group by product, volume_metric

),

final as (

    select
        product,
        volume_metric,
        first_week_start,
        last_week_start,
        weeks,
        elasticity,
        r_squared,
        cast(first_week_volume as bigint) as first_week_volume,
        cast(last_week_volume as bigint) as last_week_volume,
        {{ divide_decimal('first_week_cost', 'first_week_volume') }} as first_week_unit_cost,
        {{ divide_decimal('last_week_cost', 'last_week_volume') }} as last_week_unit_cost,
        case
            when weeks < 4 or elasticity is null then 'not enough data'
            when elasticity < 0.9 then 'unit cost falls as volume grows'
            when elasticity <= 1.1 then 'cost grows in step with volume'
            else 'unit cost rises as volume grows'
        end as trend
    from fitted

)

select * from final
