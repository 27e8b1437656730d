{#- Each labelled anomaly (known incidents, or the demo's planted ones) with whether and when the detector
    flagged it: a flagged day of the same provider, service and team (or sub account) inside the label's
    window. A label's service may be written as the provider's service code (AmazonS3) or as the FOCUS
    ServiceName (Amazon Simple Storage Service). -#}

with

labels as (

    select * from {{ ref('stg_labels__anomaly_labels') }}

),

cost_anomalies as (

    select * from {{ ref('cost_anomalies') }}

),

service_names as (

    select distinct
        x_SourceProvider as provider,
        x_ServiceCode as service_code,
        ServiceName as service_name
    from {{ ref('focus_costs') }}
    where x_ServiceCode is not null

),

scored_period as (

    select
        min(case when expected_cost is not null then charge_date end) as scored_from,
        max(charge_date) as scored_through
    from cost_anomalies

),

labelled_services as (

    select
        labels.*,
        coalesce(service_names.service_name, labels.service_name) as focus_service_name
    from labels
    left join service_names
        on
            labels.x_source_provider = service_names.provider
            and labels.service_name = service_names.service_code

),

flags as (

    select
        labelled_services.anomaly_id as label_id,
        cost_anomalies.charge_date,
        cost_anomalies.anomaly_id,
        cost_anomalies.severity
    from labelled_services
    inner join cost_anomalies
        on
            cost_anomalies.is_anomaly
            and labelled_services.x_source_provider = cost_anomalies.provider
            and labelled_services.focus_service_name = cost_anomalies.service_name
            and (
                labelled_services.team = cost_anomalies.team
                or (cost_anomalies.owner_type = 'account' and labelled_services.sub_account_id = cost_anomalies.owner)
            )
            and cost_anomalies.charge_date between labelled_services.start_date and labelled_services.end_date

),

detections as (

    select
        label_id,
        min(charge_date) as first_flag_date,
        count(*) as flagged_days,
        count(distinct anomaly_id) as episodes
    from flags
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
