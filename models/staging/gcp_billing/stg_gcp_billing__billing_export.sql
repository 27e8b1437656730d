{%- set raw = source('gcp_billing', 'billing_export') -%}
{%- set cols = raw_column_names(raw) -%}

with

source as (

    select * from {{ raw_relation_or_empty(raw, cols) }}

),

renamed as (

    select
        -- lineage
        {{ raw_lineage_columns(cols, 'gcp') }},

        -- account and project
        {{ raw_column(cols, 'billing_account_id') }} as billing_account_id,
        {{ raw_column(cols, 'project_id') }} as project_id,
        {{ raw_column(cols, 'project_number') }} as project_number,
        {{ raw_column(cols, 'project_name') }} as project_name,
        {{ raw_column(cols, 'invoice_month') }} as invoice_month,

        -- service and sku
        {{ raw_column(cols, 'service_id') }} as service_id,
        {{ raw_column(cols, 'service_description') }} as service_description,
        {{ raw_column(cols, 'sku_id') }} as sku_id,
        {{ raw_column(cols, 'sku_description') }} as sku_description,
        {{ raw_column(cols, 'cost_type') }} as cost_type,
        {{ raw_column(cols, 'transaction_type') }} as transaction_type,
        nullif({{ raw_column(cols, 'seller_name') }}, '') as seller_name,
        {{ raw_column(cols, ['adjustment_info_description', 'adjustment_info_type']) }} as adjustment_description,

        -- time
        {{ parse_utc_timestamp(raw_column(cols, 'usage_start_time'), 'bigquery') }} as usage_start,
        {{ parse_utc_timestamp(raw_column(cols, 'usage_end_time'), 'bigquery') }} as usage_end,
        {{ parse_utc_timestamp(raw_column(cols, 'export_time'), 'bigquery') }} as exported_at,

        -- location
        nullif({{ raw_column(cols, 'location_region') }}, '') as region,
        nullif({{ raw_column(cols, 'location_location') }}, '') as location,
        nullif({{ raw_column(cols, 'location_zone') }}, '') as zone,

        -- money: cost is before credits; credits are a repeated record of negative amounts
        {{ to_money(raw_column(cols, 'cost')) }} as cost,
        {{ to_money(raw_column(cols, 'cost_at_list')) }} as cost_at_list,
        {{ raw_column(cols, 'currency') }} as currency,
        {{ to_quantity(raw_column(cols, 'currency_conversion_rate')) }} as currency_conversion_rate,
        {{ raw_column(cols, 'credits') }} as credits,
        {{ to_money(raw_column(cols, 'price_effective_price')) }} as price_effective_price,
        {{ raw_column(cols, 'price_tier_start_amount') }} as price_tier_start_amount,

        -- usage
        {{ to_quantity(raw_column(cols, 'usage_amount')) }} as usage_amount,
        {{ raw_column(cols, 'usage_unit') }} as usage_unit,
        {{ to_quantity(raw_column(cols, 'usage_amount_in_pricing_units')) }} as usage_amount_in_pricing_units,
        {{ raw_column(cols, 'usage_pricing_unit') }} as usage_pricing_unit,

        -- resource (detailed export only)
        nullif({{ raw_column(cols, 'resource_name') }}, '') as resource_name,
        nullif({{ raw_column(cols, 'resource_global_name') }}, '') as resource_global_name,

        -- labels as [{key, value}] JSON, as BigQuery holds them
        nullif({{ raw_column(cols, 'labels') }}, '[]') as labels

    from source

)

select * from renamed
