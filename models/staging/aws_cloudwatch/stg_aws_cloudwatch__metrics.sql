{%- set raw = source('aws_cloudwatch', 'metrics') -%}
{%- set cols = raw_column_names(raw) -%}

with

source as (

    select * from {{ raw_relation_or_empty(raw, cols) }}

),

renamed as (

    select
        cast({{ raw_column(cols, 'metric_date') }} as date) as metric_date,
        {{ raw_column(cols, 'provider') }} as provider_name,
        {{ raw_column(cols, 'resource_id') }} as resource_id,
        {{ raw_column(cols, 'metric') }} as metric,
        cast({{ raw_column(cols, 'average') }} as decimal(9, 4)) as average_percent,
        cast({{ raw_column(cols, 'maximum') }} as decimal(9, 4)) as maximum_percent,
        {{ raw_column(cols, '_source_file') }} as source_file,
        {{ loaded_at_utc(cols) }} as loaded_at

    from source

)

select * from renamed
