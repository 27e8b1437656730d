{#- Labelled anomalies (known incidents, or the demo's planted ones) with their service as FOCUS names it:
    a label may give the provider's service code (AmazonS3) or the FOCUS ServiceName (Amazon Simple
    Storage Service). One row per label. -#}

with

labels as (

    select * from {{ ref('stg_labels__anomaly_labels') }}

),

service_names as (

    select distinct
        x_SourceProvider as provider,
        x_ServiceCode as service_code,
        ServiceName as service_name
    from {{ ref('focus_costs') }}
    where x_ServiceCode is not null

),

final as (

    select
        labels.*,
        coalesce(service_names.service_name, labels.service_name) as focus_service_name
    from labels
    left join service_names
        on
            labels.x_source_provider = service_names.provider
            and labels.service_name = service_names.service_code

)

select * from final
