{%- set raw = source('fx', 'rates') -%}
{%- set cols = raw_column_names(raw) -%}

with

source as (

    select * from {{ raw_relation_or_empty(raw, cols) }}

),

renamed as (

    select
        cast({{ raw_column(cols, 'rate_date') }} as date) as rate_date,
        {{ raw_column(cols, 'from_currency') }} as from_currency,
        {{ raw_column(cols, 'to_currency') }} as to_currency,
        {{ to_exchange_rate(raw_column(cols, 'rate')) }} as rate,
        {{ raw_column(cols, '_source_file') }} as source_file,
        cast({{ raw_column(cols, '_line_number') }} as bigint) as source_line_number,
        {{ loaded_at_utc(cols) }} as loaded_at

    from source

)

select * from renamed
