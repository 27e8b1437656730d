{#- One row per `finops watch` cycle: its latest record. A view, not a table like the other marts: cycles are
    recorded while the watcher runs, between builds, and the run log must show them as they happen. -#}
{{ config(materialized='view') }}

with

records as (

    select * from {{ ref('stg_meta__pipeline_runs') }}

),

latest as (

    select *
    from records
    -- The end record of a cycle replaces its start record (status running).
    qualify row_number() over (
        partition by run_id
        order by recorded_at desc, case when status = 'running' then 0 else 1 end desc
    ) = 1

),

final as (

    select
        run_id,
        loader_source,
        delivery_files,
        file_count,
        landed_at,
        started_at,
        finished_at,
        status,
        error,
        rows_loaded,
        rows_rejected,
        models_rebuilt,
        models,
        detect_seconds,
        load_seconds,
        build_seconds,
        alerts_seconds,
        alerts_sent,
        latency_seconds

    from latest

)

select * from final
