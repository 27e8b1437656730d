{#- The watcher's run log, one row per record written: a cycle writes one when it starts (status running)
    and one when it ends. The table exists only once `finops watch` has run; until then this view is empty.
    Rebuilt by every watch cycle (it selects source:meta+), so it reads the table from the first cycle on. -#}
{%- set raw = source('meta', 'pipeline_runs') -%}
{%- set cols = raw_column_names(raw) -%}

with

source as (

    select * from {{ raw_relation_or_empty(raw, cols) }}

),

renamed as (

    select
        {{ raw_column(cols, 'run_id') }} as run_id,
        {{ raw_column(cols, 'source') }} as loader_source,
        {{ raw_column(cols, 'files') }} as delivery_files,
        cast({{ raw_column(cols, 'file_count') }} as bigint) as file_count,
        {{ raw_timestamp_utc(cols, 'landed_at') }} as landed_at,
        {{ raw_timestamp_utc(cols, 'started_at') }} as started_at,
        {{ raw_timestamp_utc(cols, 'finished_at') }} as finished_at,
        {{ raw_column(cols, 'status') }} as status,
        {{ raw_column(cols, 'error') }} as error,
        cast({{ raw_column(cols, 'rows_loaded') }} as bigint) as rows_loaded,
        cast({{ raw_column(cols, 'rows_rejected') }} as bigint) as rows_rejected,
        cast({{ raw_column(cols, 'models_rebuilt') }} as bigint) as models_rebuilt,
        {{ raw_column(cols, 'models') }} as models,
        cast({{ raw_column(cols, 'detect_seconds') }} as double) as detect_seconds,
        cast({{ raw_column(cols, 'load_seconds') }} as double) as load_seconds,
        cast({{ raw_column(cols, 'build_seconds') }} as double) as build_seconds,
        cast({{ raw_column(cols, 'alerts_seconds') }} as double) as alerts_seconds,
        cast({{ raw_column(cols, 'alerts_sent') }} as bigint) as alerts_sent,
        cast({{ raw_column(cols, 'latency_seconds') }} as double) as latency_seconds,
        {{ raw_timestamp_utc(cols, 'recorded_at') }} as recorded_at

    from source

)

select * from renamed
