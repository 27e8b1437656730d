{%- set raw = source('azure_cost', 'cost_details') -%}
{%- set cols = raw_column_names(raw) -%}

with

source as (

    select * from {{ raw_relation_or_empty(raw, cols) }}

),

renamed as (

    select
        -- lineage
        {{ raw_lineage_columns(cols, 'azure') }},
        {{ raw_column(cols, '_dataset') }} as cost_dataset,

        -- accounts: EA and MCA name these differently
        {{ raw_column(cols, 'billing_account_id') }} as billing_account_id,
        {{ raw_column(cols, 'billing_account_name') }} as billing_account_name,
        {{ raw_column(cols, 'billing_profile_id') }} as billing_profile_id,
        {{ raw_column(cols, 'billing_profile_name') }} as billing_profile_name,
        {{ raw_column(cols, ['invoice_section_id']) }} as invoice_section_id,
        {{ raw_column(cols, ['invoice_section_name', 'invoice_section']) }} as invoice_section_name,
        {{ raw_column(cols, 'subscription_id') }} as subscription_id,
        {{ raw_column(cols, 'subscription_name') }} as subscription_name,
        {{ raw_column(cols, ['resource_group_name', 'resource_group']) }} as resource_group_name,
        nullif({{ raw_column(cols, 'invoice_id') }}, '') as invoice_id,

        -- periods
        {{ parse_utc_timestamp(raw_column(cols, 'date'), 'us_date') }} as charge_date,
        {{ parse_utc_timestamp(raw_column(cols, 'billing_period_start_date'), 'us_date') }} as billing_period_start,
        {{ parse_utc_timestamp(raw_column(cols, 'billing_period_end_date'), 'us_date') }}
            as billing_period_last_day,

        -- charge
        {{ raw_column(cols, 'charge_type') }} as charge_type,
        {{ raw_column(cols, 'frequency') }} as frequency,
        {{ raw_column(cols, 'pricing_model') }} as pricing_model,
        {{ raw_column(cols, 'publisher_type') }} as publisher_type,
        nullif({{ raw_column(cols, 'publisher_name') }}, '') as publisher_name,
        {{ to_money(raw_column(cols, ['cost_in_billing_currency', 'cost', 'pre_tax_cost'])) }} as cost,
        {{ to_money(raw_column(cols, 'payg_cost_in_billing_currency')) }} as payg_cost,
        {{ raw_column(cols, ['billing_currency_code', 'billing_currency']) }} as billing_currency,
        {{ raw_column(cols, 'pricing_currency') }} as pricing_currency,
        {{ to_quantity(raw_column(cols, 'exchange_rate_pricing_to_billing')) }} as exchange_rate_pricing_to_billing,
        {{ to_money(raw_column(cols, 'effective_price')) }} as effective_price,
        {{ to_money(raw_column(cols, 'unit_price')) }} as unit_price,
        {{ to_money(raw_column(cols, 'pay_g_price')) }} as payg_price,
        {{ to_quantity(raw_column(cols, 'quantity')) }} as quantity,
        {{ raw_column(cols, 'unit_of_measure') }} as unit_of_measure,

        -- product and meter
        {{ raw_column(cols, ['product_name', 'product']) }} as product_name,
        {{ raw_column(cols, ['product_id', 'part_number']) }} as product_id,
        {{ raw_column(cols, 'meter_id') }} as meter_id,
        {{ raw_column(cols, 'meter_name') }} as meter_name,
        {{ raw_column(cols, 'meter_category') }} as meter_category,
        {{ raw_column(cols, 'meter_sub_category') }} as meter_sub_category,
        {{ raw_column(cols, 'meter_region') }} as meter_region,
        {{ raw_column(cols, 'service_family') }} as service_family,
        {{ raw_column(cols, 'consumed_service') }} as consumed_service,

        -- resource
        nullif({{ raw_column(cols, 'resource_id') }}, '') as resource_id,
        nullif({{ raw_column(cols, 'resource_name') }}, '') as resource_name,
        nullif({{ raw_column(cols, ['resource_location', 'location']) }}, '') as resource_location,
        nullif({{ raw_column(cols, 'availability_zone') }}, '') as availability_zone,
        {{ raw_column(cols, 'additional_info') }} as additional_info,

        -- commitments: EA files only name the reservation; newer exports name the benefit
        nullif({{ raw_column(cols, 'benefit_id') }}, '') as benefit_id,
        nullif({{ raw_column(cols, 'benefit_name') }}, '') as benefit_name,
        nullif({{ raw_column(cols, 'reservation_id') }}, '') as reservation_id,
        nullif({{ raw_column(cols, 'reservation_name') }}, '') as reservation_name,
        nullif({{ raw_column(cols, 'product_order_id') }}, '') as product_order_id,
        nullif({{ raw_column(cols, 'product_order_name') }}, '') as product_order_name,
        {{ raw_column(cols, 'term') }} as term,

        -- tags: older EA exports leave out the braces around the object
        case
            when nullif(trim({{ raw_column(cols, 'tags') }}), '') is null then null
            when left(trim({{ raw_column(cols, 'tags') }}), 1) = '{' then trim({{ raw_column(cols, 'tags') }})
            else '{' || trim({{ raw_column(cols, 'tags') }}) || '}'
        end as tags

    from source

)

select * from renamed
