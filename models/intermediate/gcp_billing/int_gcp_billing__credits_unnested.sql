{#- One row per credit on a GCP billing-export row. The export nests credits as a repeated record;
    FOCUS needs to know their kinds apart (a committed-use discount is part of the usage's price,
    a promotion is a Credit row of its own). -#}

with

elements as (

    {{ json_array_elements(
        ref('stg_gcp_billing__billing_export'), 'credits', ['billing_period_key', 'source_file', 'source_line_number']
    ) }}

),

final as (

    select
        billing_period_key,
        source_file,
        source_line_number,
        element_index as credit_index,
        {{ json_text('element_json', 'id') }} as credit_id,
        {{ json_text('element_json', 'name') }} as credit_name,
        {{ json_text('element_json', 'full_name') }} as credit_full_name,
        upper({{ json_text('element_json', 'type') }}) as credit_type,
        {{ to_money(json_text('element_json', 'amount')) }} as credit_amount,
        upper({{ json_text('element_json', 'type') }}) in (
            'SUSTAINED_USAGE_DISCOUNT', 'COMMITTED_USAGE_DISCOUNT', 'COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE',
            'DISCOUNT', 'SUBSCRIPTION_BENEFIT', 'RESELLER_MARGIN', 'FEE_UTILIZATION_OFFSET'
        ) as is_price_discount
    from elements

)

select * from final
