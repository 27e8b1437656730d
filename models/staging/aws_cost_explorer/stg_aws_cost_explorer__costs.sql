{%- set raw = source('aws_cost_explorer', 'costs') -%}
{%- set cols = raw_column_names(raw) -%}
{#- Daily periods are plain dates (2026-11-01), hourly ones UTC times (2026-11-01T05:00:00Z). -#}
{%- set midnight = "case when length({0}) = 10 then {0} || 'T00:00:00Z' else {0} end" -%}

with

source as (

    select * from {{ raw_relation_or_empty(raw, cols) }}

),

renamed as (

    select
        {{ raw_column(cols, 'granularity') }} as granularity,
        {{ raw_column(cols, 'group_by') }} as group_by,
        {{ parse_utc_timestamp(midnight.format(raw_column(cols, 'period_start'))) }} as period_start,
        {{ parse_utc_timestamp(midnight.format(raw_column(cols, 'period_end'))) }} as period_end,
        {{ raw_column(cols, 'account_id') }} as account_id,
        {{ raw_column(cols, 'group_value') }} as group_value,
        {{ to_money(raw_column(cols, 'unblended_cost')) }} as billed_cost,
        {{ to_money(raw_column(cols, 'amortized_cost')) }} as effective_cost,
        {{ raw_column(cols, 'unblended_currency') }} as billing_currency,
        cast({{ raw_column(cols, 'is_estimated') }} as boolean) as is_estimated,
        {{ raw_column(cols, '_source_file') }} as source_file,
        cast({{ raw_column(cols, '_line_number') }} as bigint) as source_line_number,
        {{ loaded_at_utc(cols) }} as loaded_at

    from source

),

final as (

    select
        *,
        cast(period_start as date) as charge_date
    from renamed

)

select * from final
