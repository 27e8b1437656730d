{#- GCP billing export in FOCUS 1.2 terms. Credits that are part of the price (sustained-use,
    committed-use, negotiated discounts) are folded into the row they reduce; promotions, free tier and
    any other credit become Credit rows of their own. The FOCUS rows therefore add up to cost + credits,
    which is the invoice, and no credit is lost by clamping at zero. GCP bills commitments monthly, so
    nothing needs spreading: EffectiveCost equals BilledCost.
    Rows and their credits are joined on file and line, which a period filter from downstream cannot cross,
    so this model is materialised per billing period and, on an incremental run, maps only the periods
    with newly loaded rows, filtering both inputs. -#}

{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='x_BillingPeriodKey',
    on_schema_change='fail',
) }}

{%- set export_relation = ref('stg_gcp_billing__billing_export') -%}
{%- set periods = billing_periods_to_rebuild(
    [export_relation], this, 'x_BillingPeriodKey', 'x_LoadedAt'
) if is_incremental() else none -%}

with

export_rows as (

    select * from {{ export_relation }}
    {%- if periods is not none %}
    where {{ in_billing_periods('billing_period_key', periods) }}
    {%- endif %}

),

credits as (

    select * from {{ ref('int_gcp_billing__credits_unnested') }}
    {%- if periods is not none %}
    where {{ in_billing_periods('billing_period_key', periods) }}
    {%- endif %}

),

price_discounts as (

    select
        source_file,
        source_line_number,
        sum(credit_amount) as discount_amount,
        max(case when credit_type like 'COMMITTED_USAGE_DISCOUNT%' then credit_full_name end)
            as commitment_name,
        max(case when credit_type like 'COMMITTED_USAGE_DISCOUNT%' then credit_id end) as commitment_id,
        max(case when credit_type = 'COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE' then 1 else 0 end)
            as is_spend_commitment
    from credits
    where is_price_discount
    group by source_file, source_line_number

),

charge_rows as (

    select
        export_rows.*,
        0 as credit_index,
        cast(null as varchar) as credit_type,
        case
            when export_rows.cost_type = 'tax' then 'Tax'
            when export_rows.cost_type in ('adjustment', 'rounding_error') then 'Adjustment'
            when export_rows.sku_description like 'Commitment%' then 'Purchase'
            else 'Usage'
        end as charge_category,
        -- cast back to money: engines differ in the type they give a sum plus a decimal (fakesnow: a float)
        {{ to_money('export_rows.cost + coalesce(price_discounts.discount_amount, 0)') }} as billed_cost,
        export_rows.cost as contracted_cost,
        coalesce(export_rows.cost_at_list, export_rows.cost) as list_cost,
        price_discounts.commitment_id,
        price_discounts.commitment_name,
        price_discounts.is_spend_commitment,
        coalesce(export_rows.sku_description, export_rows.service_description) as charge_description
    from export_rows
    left join price_discounts
        on
            export_rows.source_file = price_discounts.source_file
            and export_rows.source_line_number = price_discounts.source_line_number

),

credit_rows as (

    select
        export_rows.*,
        credits.credit_index,
        credits.credit_type,
        'Credit' as charge_category,
        credits.credit_amount as billed_cost,
        credits.credit_amount as contracted_cost,
        credits.credit_amount as list_cost,
        cast(null as varchar) as commitment_id,
        cast(null as varchar) as commitment_name,
        0 as is_spend_commitment,
        coalesce(credits.credit_full_name, credits.credit_name, credits.credit_type) as charge_description
    from credits
    inner join export_rows
        on
            credits.source_file = export_rows.source_file
            and credits.source_line_number = export_rows.source_line_number
    where not credits.is_price_discount

),

all_rows as (

    select * from charge_rows
    union all
    select * from credit_rows

),

service_categories as (

    select * from {{ ref('service_categories') }}
    where provider = 'gcp'

),

units as (

    select * from {{ ref('unit_of_measure_map') }}
    where provider = 'gcp'

),

tags as (

    select * from {{ ref('int_tags__normalised') }}

),

enriched as (

    select
        all_rows.*,
        coalesce(service_categories.service_category, 'Other') as service_category,
        coalesce(service_categories.service_subcategory, 'Other (Other)') as service_subcategory,
        coalesce(pricing_units.focus_unit, all_rows.usage_pricing_unit) as pricing_unit_focus,
        coalesce(usage_units.focus_unit, all_rows.usage_unit) as usage_unit_focus,
        tags.tags_normalised,
        tags.tags_original
    from all_rows
    left join service_categories on lower(all_rows.service_description) = service_categories.service_key
    left join units as pricing_units on lower(all_rows.usage_pricing_unit) = pricing_units.source_unit
    left join units as usage_units on lower(all_rows.usage_unit) = usage_units.source_unit
    left join tags on all_rows.labels = tags.source_tags

),

final as (

    select
        -- accounts
        billing_account_id as BillingAccountId,
        -- The export carries no billing-account name.
        billing_account_id as BillingAccountName,
        'Billing Account' as BillingAccountType,
        project_id as SubAccountId,
        coalesce(project_name, project_id) as SubAccountName,
        case when project_id is not null then 'Project' end as SubAccountType,
        currency as BillingCurrency,
        cast(null as varchar) as InvoiceId,
        'Google Cloud' as InvoiceIssuerName,
        'Google Cloud' as ProviderName,
        case
            when seller_name is null or seller_name in ('Google', 'Google LLC') then 'Google Cloud'
            else seller_name
        end as PublisherName,

        -- periods: the invoice month is a Pacific-time month
        {{ pacific_month_start_utc('invoice_month') }} as BillingPeriodStart,
        {{ pacific_month_start_utc('invoice_month', 1) }} as BillingPeriodEnd,
        usage_start as ChargePeriodStart,
        usage_end as ChargePeriodEnd,

        -- charge
        charge_category as ChargeCategory,
        cast(null as varchar) as ChargeClass,
        charge_description as ChargeDescription,
        case
            when charge_category = 'Usage' then 'Usage-Based'
            when charge_category in ('Purchase', 'Tax') then 'Recurring'
            else 'One-Time'
        end as ChargeFrequency,
        case
            when charge_category not in ('Usage', 'Purchase') then null
            when commitment_id is not null or charge_category = 'Purchase' then 'Committed'
            else 'Standard'
        end as PricingCategory,

        -- money
        billed_cost as BilledCost,
        billed_cost as EffectiveCost,
        list_cost as ListCost,
        contracted_cost as ContractedCost,
        cast(null as {{ money_type() }}) as ListUnitPrice,
        cast(null as {{ money_type() }}) as ContractedUnitPrice,
        currency as PricingCurrency,
        billed_cost as PricingCurrencyEffectiveCost,
        cast(null as {{ money_type() }}) as PricingCurrencyListUnitPrice,
        cast(null as {{ money_type() }}) as PricingCurrencyContractedUnitPrice,

        -- quantities
        case
            when charge_category in ('Usage', 'Purchase')
                then coalesce(usage_amount_in_pricing_units, usage_amount, 0)
        end as PricingQuantity,
        case
            when charge_category in ('Usage', 'Purchase') then coalesce(pricing_unit_focus, 'Units')
        end as PricingUnit,
        case when charge_category = 'Usage' then coalesce(usage_amount, 0) end as ConsumedQuantity,
        case when charge_category = 'Usage' then coalesce(usage_unit_focus, 'Units') end as ConsumedUnit,

        -- commitment discounts (committed-use discounts arrive as credits on the usage they cover)
        commitment_id as CommitmentDiscountId,
        case
            when commitment_id is null then null
            when is_spend_commitment = 1 then 'Spend'
            else 'Usage'
        end as CommitmentDiscountCategory,
        case when commitment_id is not null then 'Committed Use Discount' end as CommitmentDiscountType,
        commitment_name as CommitmentDiscountName,
        case when commitment_id is not null and charge_category = 'Usage' then 'Used' end
            as CommitmentDiscountStatus,
        case
            when commitment_id is not null then coalesce(usage_amount_in_pricing_units, usage_amount, 0)
        end as CommitmentDiscountQuantity,
        case when commitment_id is not null then coalesce(pricing_unit_focus, 'Units') end
            as CommitmentDiscountUnit,
        cast(null as varchar) as CapacityReservationId,
        cast(null as varchar) as CapacityReservationStatus,

        -- service, sku, resource, location
        service_description as ServiceName,
        service_category as ServiceCategory,
        service_subcategory as ServiceSubcategory,
        sku_id as SkuId,
        cast(null as varchar) as SkuPriceId,
        sku_description as SkuMeter,
        cast(null as varchar) as SkuPriceDetails,
        resource_global_name as ResourceId,
        coalesce(resource_name, {{ last_path_segment('resource_global_name') }}) as ResourceName,
        case
            when resource_global_name is not null
                then coalesce({{ regexp_group('resource_global_name', '/([^/]+)/[^/]+$') }}, service_description)
        end as ResourceType,
        coalesce(region, location) as RegionId,
        coalesce(region, location) as RegionName,
        zone as AvailabilityZone,
        tags_normalised as Tags,

        -- lineage and provider detail
        'gcp' as x_SourceProvider,
        'bigquery_export' as x_SourceLayout,
        source_file as x_SourceFile,
        source_line_number as x_SourceLine,
        delivery_id as x_DeliveryId,
        billing_partition as x_BillingPartition,
        billing_period_key as x_BillingPeriodKey,
        loaded_at as x_LoadedAt,
        tags_original as x_SourceTags,
        coalesce(credit_type, cost_type) as x_SourceChargeType,
        service_id as x_ServiceCode,
        cast(null as varchar) as x_AmortizationSource,
        credit_index as x_CreditIndex,
        case when credit_index > 0 then 'credit' else 'charge' end as x_RowKind
    from enriched

)

select * from final
-- Each invoice month's rows together, as in focus_costs: a rebuilt month rewrites adjacent storage only.
order by x_BillingPeriodKey
