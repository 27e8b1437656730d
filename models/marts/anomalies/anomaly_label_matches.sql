{#- Each labelled anomaly with whether and when the detector flagged it (int_anomaly__label_flags): the
    first flagged day, how many days it took, and how many episodes matched. -#}

with

labelled_services as (

    select * from {{ ref('int_anomaly__labels_resolved') }}

),

label_flags as (

    select * from {{ ref('int_anomaly__label_flags') }}

),

cost_anomalies as (

    select * from {{ ref('cost_anomalies') }}

),

scored_period as (

    select
        min(case when expected_cost is not null then charge_date end) as scored_from,
        max(charge_date) as scored_through
    from cost_anomalies

),

detections as (

    select
        label_id,
        min(charge_date) as first_flag_date,
        count(*) as flagged_days,
        count(distinct anomaly_id) as episodes
    from label_flags
    group by label_id

),

final as (

    select
        labelled_services.anomaly_id as label_id,
        labelled_services.x_source_provider as provider,
        labelled_services.focus_service_name as service_name,
        labelled_services.team,
        labelled_services.sub_account_id,
        labelled_services.kind,
        labelled_services.start_date,
        labelled_services.end_date,
        labelled_services.description,
        labelled_services.start_date <= scored_period.scored_through
        and labelled_services.end_date >= scored_period.scored_from as is_in_scored_period,
        detections.first_flag_date is not null as is_detected,
        detections.first_flag_date,
        {{ days_between('labelled_services.start_date', 'detections.first_flag_date') }} as days_to_detect,
        coalesce(detections.first_flag_date = labelled_services.start_date, false) as is_flagged_on_first_day,
        coalesce(detections.flagged_days, 0) as flagged_days,
        coalesce(detections.episodes, 0) as episodes
    from labelled_services
    cross join scored_period
    left join detections on labelled_services.anomaly_id = detections.label_id

)

select * from final
