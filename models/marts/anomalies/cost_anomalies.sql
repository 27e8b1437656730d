{#- One row per day x anomaly series (provider x service x team, or account where there is no team), with
    the actual usage cost, the expected cost and band, and for anomalous days their direction, severity
    and episode. Severity grows with the dollar impact (vars anomaly_high_impact, anomaly_critical_impact).
    A flagged day matching a known_cost_events row is kept, marked suppressed, and is not an anomaly. -#}

with

scored as (

    select * from {{ ref('int_anomaly__scored') }}

),

daily_series as (

    select * from {{ ref('int_anomaly__daily_series') }}

),

known_cost_events as (

    select * from {{ ref('known_cost_events') }}

),

series as (

    select
        anomaly_series_key,
        provider,
        service_name,
        owner,
        owner_type,
        max(service_category) as service_category,
        max(team) as team,
        max(business_unit) as business_unit,
        max(currency) as currency
    from daily_series
    group by anomaly_series_key, provider, service_name, owner, owner_type

),

data_through as (

    select max(cast(charge_date as date)) as data_through_date
    from scored

),

days as (

    select
        series.*,
        cast(scored.charge_date as date) as charge_date,
        coalesce(daily_series.actual_cost, 0) as actual_cost,
        cast(scored.expected_cost as decimal(38, 2)) as expected_cost,
        cast(scored.lower_bound as decimal(38, 2)) as lower_bound,
        cast(scored.upper_bound as decimal(38, 2)) as upper_bound,
        cast(scored.robust_score as double) as robust_score,
        cast(scored.is_flagged as boolean) as is_flagged,
        scored.direction,
        cast(scored.anomaly_start_date as date) as anomaly_start_date,
        cast(scored.anomaly_end_date as date) as anomaly_end_date
    from scored
    inner join series on scored.anomaly_series_key = series.anomaly_series_key
    left join daily_series
        on
            scored.anomaly_series_key = daily_series.anomaly_series_key
            and cast(scored.charge_date as date) = daily_series.charge_date

),

suppressions as (

    select
        days.anomaly_series_key,
        days.charge_date,
        min(known_cost_events.event_id) as event_id
    from days
    inner join known_cost_events
        on
            days.is_flagged
            and (known_cost_events.provider is null or days.provider = known_cost_events.provider)
            and (known_cost_events.service_name is null or days.service_name = known_cost_events.service_name)
            and (known_cost_events.owner is null or days.owner = known_cost_events.owner)
            and days.charge_date between known_cost_events.start_date and known_cost_events.end_date
    group by days.anomaly_series_key, days.charge_date

),

final as (

    select
        days.anomaly_series_key,
        days.charge_date,
        days.provider,
        days.service_name,
        days.service_category,
        days.team,
        days.business_unit,
        days.owner,
        days.owner_type,
        days.currency,
        cast(days.actual_cost as decimal(38, 2)) as actual_cost,
        days.expected_cost,
        days.lower_bound,
        days.upper_bound,
        case
            when days.expected_cost <> 0
                then cast(100 * (days.actual_cost - days.expected_cost) / abs(days.expected_cost) as double)
        end as deviation_pct,
        days.robust_score,
        cast(days.actual_cost - days.expected_cost as decimal(38, 2)) as dollar_impact,
        case when days.is_flagged then days.direction end as direction,
        case
            when not days.is_flagged then null
            when abs(days.actual_cost - days.expected_cost) >= {{ var('anomaly_critical_impact') }} then 'CRITICAL'
            when abs(days.actual_cost - days.expected_cost) >= {{ var('anomaly_high_impact') }} then 'HIGH'
            else 'MEDIUM'
        end as severity,
        days.is_flagged and suppressions.event_id is null as is_anomaly,
        suppressions.event_id is not null as is_suppressed,
        known_cost_events.reason as suppression_reason,
        case
            when days.is_flagged then days.anomaly_series_key || '@' || cast(days.anomaly_start_date as varchar)
        end as anomaly_id,
        days.anomaly_start_date,
        days.anomaly_end_date,
        coalesce(days.is_flagged and days.anomaly_end_date = data_through.data_through_date, false) as is_ongoing
    from days
    cross join data_through
    left join suppressions
        on
            days.anomaly_series_key = suppressions.anomaly_series_key
            and days.charge_date = suppressions.charge_date
    left join known_cost_events on suppressions.event_id = known_cost_events.event_id

)

select * from final
