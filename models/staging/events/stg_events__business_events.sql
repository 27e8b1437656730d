{%- set raw = source('events', 'business_events') -%}
{%- set cols = raw_column_names(raw) -%}

with

source as (

    select * from {{ raw_relation_or_empty(raw, cols) }}

),

renamed as (

    select
        {{ raw_column(cols, 'event_id') }} as event_id,
        lower({{ raw_column(cols, 'event_type') }}) as event_type,
        {{ parse_utc_timestamp(raw_column(cols, 'occurred_at')) }} as occurred_at,
        {{ raw_column(cols, 'product') }} as product,
        {{ raw_column(cols, 'business_unit') }} as business_unit,
        cast({{ raw_column(cols, 'quantity') }} as bigint) as quantity,
        {{ to_money(raw_column(cols, 'revenue')) }} as revenue,
        {{ raw_column(cols, 'currency') }} as currency,
        -- already pseudonymised at load time: keyed hashes, never clear values
        {{ raw_column(cols, 'user_id') }} as user_key,
        {{ raw_column(cols, ['user_email', 'email']) }} as user_email_key,
        {{ raw_column(cols, '_source_file') }} as source_file,
        cast({{ raw_column(cols, '_line_number') }} as bigint) as source_line_number,
        {{ loaded_at_utc(cols) }} as loaded_at

    from source

)

select * from renamed
