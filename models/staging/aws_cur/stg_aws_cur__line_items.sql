{%- set raw = source('aws_cur', 'line_items') -%}
{%- set cols = raw_column_names(raw) -%}

with

source as (

    select * from {{ raw_relation_or_empty(raw, cols) }}

),

renamed as (

    select
        -- lineage
        {{ raw_lineage_columns(cols, 'aws') }},
        {{ raw_column(cols, '_layout') }} as export_layout,

        -- bill
        {{ raw_column(cols, 'identity_line_item_id') }} as line_item_id,
        {{ raw_column(cols, 'bill_bill_type') }} as bill_type,
        {{ raw_column(cols, 'bill_invoice_id') }} as invoice_id,
        {{ raw_column(cols, 'bill_invoicing_entity') }} as invoicing_entity,
        {{ raw_column(cols, 'bill_billing_entity') }} as billing_entity,
        {{ raw_column(cols, 'bill_payer_account_id') }} as payer_account_id,
        {{ raw_column(cols, 'bill_payer_account_name') }} as payer_account_name,
        {{ parse_utc_timestamp(raw_column(cols, 'bill_billing_period_start_date')) }} as billing_period_start,
        {{ parse_utc_timestamp(raw_column(cols, 'bill_billing_period_end_date')) }} as billing_period_end,

        -- line item
        {{ raw_column(cols, 'line_item_usage_account_id') }} as usage_account_id,
        {{ raw_column(cols, 'line_item_usage_account_name') }} as usage_account_name,
        {{ raw_column(cols, 'line_item_line_item_type') }} as line_item_type,
        {{ parse_utc_timestamp(raw_column(cols, 'line_item_usage_start_date')) }} as usage_start,
        {{ parse_utc_timestamp(raw_column(cols, 'line_item_usage_end_date')) }} as usage_end,
        {{ raw_column(cols, 'line_item_product_code') }} as product_code,
        {{ raw_column(cols, 'line_item_usage_type') }} as usage_type,
        {{ raw_column(cols, 'line_item_operation') }} as operation,
        nullif({{ raw_column(cols, 'line_item_availability_zone') }}, '') as availability_zone,
        nullif({{ raw_column(cols, 'line_item_resource_id') }}, '') as resource_id,
        {{ to_quantity(raw_column(cols, 'line_item_usage_amount')) }} as usage_amount,
        {{ raw_column(cols, 'line_item_currency_code') }} as currency_code,
        {{ to_money(raw_column(cols, 'line_item_unblended_rate')) }} as unblended_rate,
        {{ to_money(raw_column(cols, 'line_item_unblended_cost')) }} as unblended_cost,
        {{ to_money(raw_column(cols, 'line_item_net_unblended_cost')) }} as net_unblended_cost,
        {{ raw_column(cols, 'line_item_line_item_description') }} as line_item_description,
        {{ raw_column(cols, 'line_item_tax_type') }} as tax_type,
        {{ raw_column(cols, 'line_item_legal_entity') }} as legal_entity,

        -- product (a JSON object in both layouts)
        {{ raw_column(cols, 'product') }} as product_attributes,
        {{ json_text(raw_column(cols, 'product'), 'product_name') }} as product_name,
        {{ json_text(raw_column(cols, 'product'), 'product_family') }} as product_family,
        coalesce(
            {{ json_text(raw_column(cols, 'product'), 'region_code') }},
            {{ json_text(raw_column(cols, 'product'), 'region') }}
        ) as region_code,
        {{ json_text(raw_column(cols, 'product'), 'location') }} as region_name,
        {{ json_text(raw_column(cols, 'product'), 'instance_type') }} as instance_type,
        {{ json_text(raw_column(cols, 'product'), 'sku') }} as sku,
        coalesce(
            {{ raw_column(cols, 'pricing_purchase_option') }},
            {{ json_text(raw_column(cols, 'product'), 'purchase_option') }}
        ) as purchase_option,

        -- pricing
        {{ raw_column(cols, 'pricing_rate_code') }} as pricing_rate_code,
        {{ raw_column(cols, 'pricing_rate_id') }} as pricing_rate_id,
        {{ raw_column(cols, 'pricing_term') }} as pricing_term,
        {{ raw_column(cols, 'pricing_unit') }} as pricing_unit,
        {{ raw_column(cols, 'pricing_currency') }} as pricing_currency,
        {{ to_money(raw_column(cols, 'pricing_public_on_demand_cost')) }} as public_on_demand_cost,
        {{ to_money(raw_column(cols, 'pricing_public_on_demand_rate')) }} as public_on_demand_rate,

        -- reservations
        nullif({{ raw_column(cols, 'reservation_reservation_arn') }}, '') as reservation_arn,
        {{ to_money(raw_column(cols, 'reservation_effective_cost')) }} as reservation_effective_cost,
        {{ to_money(raw_column(cols, 'reservation_unused_amortized_upfront_fee_for_billing_period')) }}
            as reservation_unused_amortized_upfront_fee,
        {{ to_money(raw_column(cols, 'reservation_unused_recurring_fee')) }} as reservation_unused_recurring_fee,
        {{ to_quantity(raw_column(cols, 'reservation_total_reserved_units')) }} as reservation_total_reserved_units,

        -- savings plans
        nullif({{ raw_column(cols, 'savings_plan_savings_plan_arn') }}, '') as savings_plan_arn,
        {{ to_money(raw_column(cols, 'savings_plan_savings_plan_effective_cost')) }} as savings_plan_effective_cost,
        {{ to_money(raw_column(cols, 'savings_plan_total_commitment_to_date')) }}
            as savings_plan_total_commitment_to_date,
        {{ to_money(raw_column(cols, 'savings_plan_used_commitment')) }} as savings_plan_used_commitment,

        -- tags, as the export wrote them
        {{ raw_column(cols, 'resource_tags') }} as resource_tags

    from source

)

select * from renamed
