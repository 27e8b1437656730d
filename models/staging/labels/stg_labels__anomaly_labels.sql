{%- set raw = source('labels', 'anomaly_labels') -%}
{%- set cols = raw_column_names(raw) -%}

with

source as (

    select * from {{ raw_relation_or_empty(raw, cols) }}

),

final as (

    select
        {{ raw_column(cols, 'anomaly_id') }} as anomaly_id,
        {{ raw_column(cols, 'provider') }} as provider,
        -- The provider family, as x_SourceProvider names it in focus_costs: both CUR layouts are AWS.
        case
            when {{ raw_column(cols, 'provider') }} in ('aws_cur', 'aws_cur2') then 'aws'
            else {{ raw_column(cols, 'provider') }}
        end as x_source_provider,
        {{ raw_column(cols, 'billing_account_id') }} as billing_account_id,
        {{ raw_column(cols, 'sub_account_id') }} as sub_account_id,
        {{ raw_column(cols, 'service_name') }} as service_name,
        {{ raw_column(cols, 'team') }} as team,
        {{ raw_column(cols, 'kind') }} as kind,
        cast({{ raw_column(cols, 'start_date') }} as date) as start_date,
        cast({{ raw_column(cols, 'end_date') }} as date) as end_date,
        cast({{ raw_column(cols, 'expected_daily_cost') }} as decimal(38, 2)) as expected_daily_cost,
        {{ raw_column(cols, 'description') }} as description,
        {{ raw_column(cols, '_source_file') }} as source_file,
        cast({{ raw_column(cols, '_line_number') }} as bigint) as source_line_number,
        {{ loaded_at_utc(cols) }} as loaded_at

    from source

)

select * from final
