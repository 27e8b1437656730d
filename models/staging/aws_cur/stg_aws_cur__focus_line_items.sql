{%- set raw = source('aws_cur', 'focus_line_items') -%}
{%- set cols = raw_column_names(raw) -%}

with

source as (

    select * from {{ raw_relation_or_empty(raw, cols) }}

),

renamed as (

    select
        -- lineage
        {{ raw_lineage_columns(cols) }},

        -- FOCUS 1.0 columns as AWS's data export writes them, typed
        {{ raw_column(cols, 'billing_account_id') }} as billing_account_id,
        {{ raw_column(cols, 'billing_account_name') }} as billing_account_name,
        {{ raw_column(cols, 'sub_account_id') }} as sub_account_id,
        {{ raw_column(cols, 'sub_account_name') }} as sub_account_name,
        {{ raw_column(cols, 'billing_currency') }} as billing_currency,
        {{ raw_column(cols, 'invoice_issuer_name') }} as invoice_issuer_name,
        {{ raw_column(cols, 'provider_name') }} as provider_name,
        {{ raw_column(cols, 'publisher_name') }} as publisher_name,
        {{ parse_utc_timestamp(raw_column(cols, 'billing_period_start')) }} as billing_period_start,
        {{ parse_utc_timestamp(raw_column(cols, 'billing_period_end')) }} as billing_period_end,
        {{ parse_utc_timestamp(raw_column(cols, 'charge_period_start')) }} as charge_period_start,
        {{ parse_utc_timestamp(raw_column(cols, 'charge_period_end')) }} as charge_period_end,
        {{ raw_column(cols, 'charge_category') }} as charge_category,
        {{ raw_column(cols, 'charge_class') }} as charge_class,
        {{ raw_column(cols, 'charge_description') }} as charge_description,
        {{ raw_column(cols, 'charge_frequency') }} as charge_frequency,
        {{ raw_column(cols, 'pricing_category') }} as pricing_category,
        {{ to_money(raw_column(cols, 'billed_cost')) }} as billed_cost,
        {{ to_money(raw_column(cols, 'effective_cost')) }} as effective_cost,
        {{ to_money(raw_column(cols, 'list_cost')) }} as list_cost,
        {{ to_money(raw_column(cols, 'contracted_cost')) }} as contracted_cost,
        {{ to_money(raw_column(cols, 'list_unit_price')) }} as list_unit_price,
        {{ to_money(raw_column(cols, 'contracted_unit_price')) }} as contracted_unit_price,
        {{ to_quantity(raw_column(cols, 'pricing_quantity')) }} as pricing_quantity,
        {{ raw_column(cols, 'pricing_unit') }} as pricing_unit,
        {{ to_quantity(raw_column(cols, 'consumed_quantity')) }} as consumed_quantity,
        {{ raw_column(cols, 'consumed_unit') }} as consumed_unit,
        {{ raw_column(cols, 'commitment_discount_id') }} as commitment_discount_id,
        {{ raw_column(cols, 'commitment_discount_name') }} as commitment_discount_name,
        {{ raw_column(cols, 'commitment_discount_category') }} as commitment_discount_category,
        {{ raw_column(cols, 'commitment_discount_type') }} as commitment_discount_type,
        {{ raw_column(cols, 'commitment_discount_status') }} as commitment_discount_status,
        {{ raw_column(cols, 'region_id') }} as region_id,
        {{ raw_column(cols, 'region_name') }} as region_name,
        {{ raw_column(cols, 'availability_zone') }} as availability_zone,
        {{ raw_column(cols, 'resource_id') }} as resource_id,
        {{ raw_column(cols, 'resource_name') }} as resource_name,
        {{ raw_column(cols, 'resource_type') }} as resource_type,
        {{ raw_column(cols, 'service_category') }} as service_category,
        {{ raw_column(cols, 'service_name') }} as service_name,
        {{ raw_column(cols, 'sku_id') }} as sku_id,
        {{ raw_column(cols, 'sku_price_id') }} as sku_price_id,
        {{ raw_column(cols, ['x_service_code', 'x_servicecode']) }} as service_code,
        {{ raw_column(cols, ['x_usage_type', 'x_usagetype']) }} as usage_type,
        {{ raw_column(cols, 'tags') }} as tags

    from source

)

select * from renamed
