{#- Every provider billing partition (payer or billing account x billing period) and currency: the
    invoice total computed straight from the raw tables next to the FOCUS BilledCost, which must be equal
    exactly:
    AWS  = sum of lineItem/UnblendedCost;
    Azure = sum of the actual export's cost (amortized-only partitions bill nothing);
    GCP  = sum of cost plus every credit amount.
    A view, so it always compares what the tables hold now; the dbt test
    reconcile_billed_cost_to_raw_invoices fails the build on any row that is not reconciled, and the
    dashboard's data-quality page shows it. -#}

{{ config(materialized='view') }}

{%- set aws = source('aws_cur', 'line_items') -%}
{%- set azure = source('azure_cost', 'cost_details') -%}
{%- set gcp = source('gcp_billing', 'billing_export') -%}
{%- set aws_cols = raw_column_names(aws) -%}
{%- set azure_cols = raw_column_names(azure) -%}
{%- set gcp_cols = raw_column_names(gcp) -%}

with

raw_aws as (

    select
        'aws' as provider,
        {{ raw_column(aws_cols, '_billing_partition') }} as billing_partition,
        {{ raw_column(aws_cols, 'line_item_currency_code') }} as currency,
        sum({{ to_money(raw_column(aws_cols, 'line_item_unblended_cost')) }}) as invoice_total
    from {{ raw_relation_or_empty(aws, aws_cols) }}
    group by 2, 3

),

raw_azure as (

    select
        'azure' as provider,
        {{ raw_column(azure_cols, '_billing_partition') }} as billing_partition,
        {{ raw_column(azure_cols, ['billing_currency_code', 'billing_currency']) }} as currency,
        sum(
            case
                when {{ raw_column(azure_cols, '_dataset') }} = 'actual'
                    then {{ to_money(raw_column(azure_cols, ['cost_in_billing_currency', 'cost', 'pre_tax_cost'])) }}
                else 0
            end
        ) as invoice_total
    from {{ raw_relation_or_empty(azure, azure_cols) }}
    group by 2, 3

),

gcp_rows as (

    select
        {{ raw_column(gcp_cols, '_billing_partition') }} as billing_partition,
        {{ raw_column(gcp_cols, '_source_file') }} as source_file,
        {{ raw_column(gcp_cols, '_line_number') }} as line_number,
        {{ raw_column(gcp_cols, 'currency') }} as currency,
        {{ to_money(raw_column(gcp_cols, 'cost')) }} as cost,
        {{ raw_column(gcp_cols, 'credits') }} as credits
    from {{ raw_relation_or_empty(gcp, gcp_cols) }}

),

gcp_credits as (

    select
        billing_partition,
        currency,
        sum({{ to_money(json_text('element_json', 'amount')) }}) as credit_total
    from ({{ json_array_elements('gcp_rows', 'credits', ['billing_partition', 'currency']) }}) as credit
    group by 1, 2

),

raw_gcp as (

    select
        'gcp' as provider,
        costs.billing_partition,
        costs.currency,
        costs.cost_total + coalesce(gcp_credits.credit_total, 0) as invoice_total
    from (
        select
            billing_partition,
            currency,
            sum(cost) as cost_total
        from gcp_rows
        group by 1, 2
    ) as costs
    left join gcp_credits
        on
            costs.billing_partition = gcp_credits.billing_partition
            and costs.currency = gcp_credits.currency

),

raw_invoices as (

    select * from raw_aws
    union all
    select * from raw_azure
    union all
    select * from raw_gcp

),

focus_totals as (

    select
        x_SourceProvider as provider,
        x_BillingPartition as billing_partition,
        BillingCurrency as currency,
        sum(BilledCost) as billed_total
    from {{ ref('focus_costs') }}
    group by 1, 2, 3

),

final as (

    select
        coalesce(raw_invoices.provider, focus_totals.provider) as provider,
        coalesce(raw_invoices.billing_partition, focus_totals.billing_partition) as billing_partition,
        coalesce(raw_invoices.currency, focus_totals.currency) as currency,
        raw_invoices.invoice_total,
        focus_totals.billed_total,
        focus_totals.billed_total - raw_invoices.invoice_total as difference,
        coalesce(raw_invoices.invoice_total = focus_totals.billed_total, false) as is_reconciled
    from raw_invoices
    full outer join focus_totals
        on
            raw_invoices.billing_partition = focus_totals.billing_partition
            and raw_invoices.currency = focus_totals.currency

)

select * from final
