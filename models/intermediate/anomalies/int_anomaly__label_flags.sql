{#- Every anomalous day of cost_anomalies that matches a label: the same provider, service and team (or
    sub account), inside the label's window. One row per label and flagged day. -#}

with

labels as (

    select * from {{ ref('int_anomaly__labels_resolved') }}

),

cost_anomalies as (

    select * from {{ ref('cost_anomalies') }}
    where is_anomaly

),

final as (

    select
        labels.anomaly_id as label_id,
        cost_anomalies.charge_date,
        cost_anomalies.anomaly_id,
        cost_anomalies.severity
    from labels
    inner join cost_anomalies
        on
            labels.x_source_provider = cost_anomalies.provider
            and labels.focus_service_name = cost_anomalies.service_name
            and (
                labels.team = cost_anomalies.team
                or (cost_anomalies.owner_type = 'account' and labels.sub_account_id = cost_anomalies.owner)
            )
            and cost_anomalies.charge_date between labels.start_date and labels.end_date

)

select * from final
