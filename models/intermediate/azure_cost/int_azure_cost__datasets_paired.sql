{#- Azure writes billed (actual) and amortized cost as two exports of the same charges. FOCUS wants both
    amounts on one row, so each actual row is paired with its amortized twin on the charge's identity;
    duplicates of one identity pair up in file order. Rows without a twin keep the side they have:
    commitment purchases exist only in actual, unused-commitment rows only in amortized.
    Pairs never cross a billing period, and the period key is their first, plainly equal, key: an
    incremental focus_costs build filters on it, and the engine can then push that filter through the
    full join and the windows down to the raw rows. Each side reads staging on its own for the same reason
    (a CTE read twice is materialised whole). -#}

{%- set pair_keys = [
    'billing_account_id', 'billing_period_start', 'charge_date', 'subscription_id', 'resource_id',
    'meter_id', 'product_id', 'charge_type', 'pricing_model', 'benefit_id', 'reservation_id',
    'publisher_type', 'quantity',
] -%}
{%- set details_relation = ref('stg_azure_cost__cost_details') -%}
{%- set carried = [] -%}
{%- if execute -%}
    {%- for column in adapter.get_columns_in_relation(details_relation) -%}
        {%- if column.name | lower not in ['cost', 'cost_dataset'] -%}
            {%- do carried.append(column.name | lower) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif -%}

with

actual as (

    select
        *,
        row_number() over (
            partition by billing_period_key, {{ pair_keys | join(', ') }}
            order by source_file, source_line_number
        ) as twin_rank
    from {{ details_relation }}
    where cost_dataset = 'actual'

),

amortized as (

    select
        *,
        row_number() over (
            partition by billing_period_key, {{ pair_keys | join(', ') }}
            order by source_file, source_line_number
        ) as twin_rank
    from {{ details_relation }}
    where cost_dataset = 'amortized'

),

periods_with_amortized as (

    select distinct
        billing_period_key,
        billing_account_id,
        billing_period_start
    from {{ details_relation }}
    where cost_dataset = 'amortized'

),

paired as (

    select
    {%- for column in carried %}
        {%- if column == 'loaded_at' %}
        -- A pair is as new as the newer of its two rows, so reloading either dataset marks the period.
        case
            when amortized.loaded_at > actual.loaded_at then amortized.loaded_at
            else coalesce(actual.loaded_at, amortized.loaded_at)
        end as loaded_at,
        {%- else %}
        coalesce(actual.{{ column }}, amortized.{{ column }}) as {{ column }},
        {%- endif %}
        {%- endfor %}
        actual.cost as actual_cost,
        amortized.cost as amortized_cost,
        amortized.source_file as amortized_source_file,
        amortized.source_line_number as amortized_source_line_number
    from actual
    full outer join amortized
        on
            actual.billing_period_key = amortized.billing_period_key and
            {%- for key in pair_keys %}
                actual.{{ key }} is not distinct from amortized.{{ key }} and
            {%- endfor %}
            actual.twin_rank = amortized.twin_rank

),

final as (

    select
        paired.*,
        periods_with_amortized.billing_account_id is not null as has_amortized_export
    from paired
    left join periods_with_amortized
        on
            paired.billing_period_key = periods_with_amortized.billing_period_key
            and paired.billing_account_id = periods_with_amortized.billing_account_id
            and paired.billing_period_start = periods_with_amortized.billing_period_start

)

select * from final
