{#- The FOCUS cost table: every provider's FOCUS-mapped rows in one schema, conformed to the FOCUS 1.2
    rules that hold across providers, with lineage, a unique row key and the amounts in the reporting
    currency.
    Built per billing period (x_BillingPeriodKey: provider | billing account | period, the rows of one
    invoice). An incremental run rebuilds the periods whose raw rows were loaded since they were last built,
    and those whose exchange rates changed; every other period is left as it is. A new billed-cost source
    joins `providers` below and its staging model joins `loaded` (and int_fx__rates_picked's charge days).
    After changing a model, macro or seed that alters existing rows, rebuild with --full-refresh. -#}

{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='x_BillingPeriodKey',
    on_schema_change='fail',
) }}

{%- set columns = [
    'AvailabilityZone',
    'BilledCost',
    'BillingAccountId',
    'BillingAccountName',
    'BillingAccountType',
    'BillingCurrency',
    'BillingPeriodEnd',
    'BillingPeriodStart',
    'CapacityReservationId',
    'CapacityReservationStatus',
    'ChargeCategory',
    'ChargeClass',
    'ChargeDescription',
    'ChargeFrequency',
    'ChargePeriodEnd',
    'ChargePeriodStart',
    'CommitmentDiscountCategory',
    'CommitmentDiscountId',
    'CommitmentDiscountName',
    'CommitmentDiscountQuantity',
    'CommitmentDiscountStatus',
    'CommitmentDiscountType',
    'CommitmentDiscountUnit',
    'ConsumedQuantity',
    'ConsumedUnit',
    'ContractedCost',
    'ContractedUnitPrice',
    'EffectiveCost',
    'InvoiceId',
    'InvoiceIssuerName',
    'ListCost',
    'ListUnitPrice',
    'PricingCategory',
    'PricingCurrency',
    'PricingCurrencyContractedUnitPrice',
    'PricingCurrencyEffectiveCost',
    'PricingCurrencyListUnitPrice',
    'PricingQuantity',
    'PricingUnit',
    'ProviderName',
    'PublisherName',
    'RegionId',
    'RegionName',
    'ResourceId',
    'ResourceName',
    'ResourceType',
    'ServiceCategory',
    'ServiceName',
    'ServiceSubcategory',
    'SkuId',
    'SkuMeter',
    'SkuPriceDetails',
    'SkuPriceId',
    'SubAccountId',
    'SubAccountName',
    'SubAccountType',
    'Tags',
    'x_SourceProvider',
    'x_SourceLayout',
    'x_SourceFile',
    'x_SourceLine',
    'x_DeliveryId',
    'x_BillingPartition',
    'x_BillingPeriodKey',
    'x_LoadedAt',
    'x_SourceTags',
    'x_SourceChargeType',
    'x_ServiceCode',
    'x_AmortizationSource',
    'x_CreditIndex',
    'x_RowKind',
] -%}

{#- A purchase that covers future charges has EffectiveCost 0 in FOCUS; whatever effective cost a
    purchase row still carries (a commitment fee's unused part, a support fee, a marketplace purchase) moves
    to a derived Usage row, so effective totals stay whole and no row breaks the rule. -#}
{%- set amortization_overrides = {
    'ChargeCategory': "'Usage'",
    'ChargeClass': 'cast(null as varchar)',
    'BilledCost': '0',
    'ListCost': '0',
    'ContractedCost': '0',
    'ListUnitPrice': 'cast(null as ' ~ money_type() ~ ')',
    'ContractedUnitPrice': 'cast(null as ' ~ money_type() ~ ')',
    'PricingCurrencyListUnitPrice': 'cast(null as ' ~ money_type() ~ ')',
    'PricingCurrencyContractedUnitPrice': 'cast(null as ' ~ money_type() ~ ')',
    'PricingQuantity': '0',
    'PricingUnit': "coalesce(PricingUnit, 'Units')",
    'PricingCategory': "case when CommitmentDiscountId is not null then 'Committed' else coalesce(PricingCategory, 'Standard') end",
    'CommitmentDiscountStatus': "case when CommitmentDiscountId is not null then 'Unused' end",
    'CommitmentDiscountQuantity': 'case when CommitmentDiscountId is not null then 0 end',
    'ConsumedQuantity': 'case when CommitmentDiscountId is null then 0 end',
    'ConsumedUnit': "case when CommitmentDiscountId is null then coalesce(PricingUnit, 'Units') end",
    'x_RowKind': "'purchase amortization'",
} -%}

{%- set unit_price_columns = [
    'ListUnitPrice', 'ContractedUnitPrice', 'PricingCurrencyListUnitPrice', 'PricingCurrencyContractedUnitPrice',
] -%}

{%- set providers = [
    ref('int_aws_cur__focus_mapped'),
    ref('int_azure_cost__focus_mapped'),
    ref('int_gcp_billing__focus_mapped'),
] -%}

{%- set loaded = [
    ref('stg_aws_cur__line_items'),
    ref('stg_azure_cost__cost_details'),
    ref('stg_gcp_billing__billing_export'),
] -%}

{%- set reporting_currency = var('reporting_currency') -%}
{%- set exchange_rates = ref('int_fx__rates_picked') -%}

{%- if is_incremental() -%}
    {%- do assert_built_columns(this, ['x_ReportingCurrency', 'x_ExchangeRate']) -%}
    {#- A period converted with a rate that is no longer the one picked for its days (a loaded rate, a seed
        update, another reporting currency) is rebuilt like a restated one. -#}
    {%- set rates_changed -%}
        select distinct built.x_BillingPeriodKey
        from {{ this }} as built
        left join {{ exchange_rates }} as rates
            on
                cast(built.ChargePeriodStart as date) = rates.charge_day
                and built.BillingCurrency = rates.from_currency
        where
            built.x_ReportingCurrency <> '{{ reporting_currency }}'
            or built.x_ExchangeRate is distinct from rates.exchange_rate
    {%- endset -%}
    {%- set periods = (
        billing_periods_to_rebuild(loaded, this, 'x_BillingPeriodKey', 'x_LoadedAt')
        + run_query(rates_changed).columns[0].values() | list
    ) | unique | sort -%}
{%- else -%}
    {%- set periods = none -%}
{%- endif -%}

-- The column lists below are generated by loops; sqlfluff cannot judge their rendered indentation.
-- noqa: disable=LT02
with

unioned as (

    {% for provider in providers -%}
    select {{ columns | join(', ') }}
    from {{ provider }}
    {% if periods is not none -%}
    where {{ in_billing_periods('x_BillingPeriodKey', periods) }}
    {% endif -%}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

purchases_split as (

    select
        {%- for column in columns %}
        {%- if column in ['EffectiveCost', 'PricingCurrencyEffectiveCost'] %}
        case when ChargeCategory = 'Purchase' then 0 else {{ column }} end as {{ column }}
        {%- else %}
        {{ column }}
        {%- endif %}{{ ',' if not loop.last }}
        {%- endfor %}
    from unioned

    union all

    select
        {%- for column in columns %}
        {{ amortization_overrides.get(column, column) }} as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from unioned
    where ChargeCategory = 'Purchase' and EffectiveCost <> 0

),

conformed as (

    -- Nullability rules FOCUS states across columns, applied once for every provider.
    select
        {%- for column in columns %}
        {%- if column == 'SkuId' %}
        case when ChargeCategory <> 'Tax' then SkuId end as SkuId
        {%- elif column in ['SkuPriceId', 'SkuMeter'] %}
        case when ChargeCategory <> 'Tax' and SkuId is not null then {{ column }} end as {{ column }}
        {%- elif column == 'SkuPriceDetails' %}
        case when ChargeCategory <> 'Tax' and SkuId is not null and SkuPriceId is not null then SkuPriceDetails end
            as SkuPriceDetails
        {%- elif column in unit_price_columns %}
        -- a unit price is never negative; refunds carry the sign in the cost, not in the price
        case when {{ column }} >= 0 then {{ column }} end as {{ column }}
        {%- elif column in ['ConsumedQuantity', 'ConsumedUnit'] %}
        case when coalesce(CommitmentDiscountStatus, '') <> 'Unused' then {{ column }} end as {{ column }}
        {%- elif column in ['CommitmentDiscountQuantity', 'CommitmentDiscountUnit'] %}
        case when coalesce(ChargeClass, '') <> 'Correction' then {{ column }} end as {{ column }}
        {%- else %}
        {{ column }}
        {%- endif %}{{ ',' if not loop.last }}
        {%- endfor %}
    from purchases_split

),

final as (

    select
        conformed.*,
        '{{ var("focus_version") }}' as x_FocusVersion,
        md5(
            conformed.x_SourceProvider || '|' || conformed.x_SourceFile
            || '|' || cast(conformed.x_SourceLine as varchar)
            || '|' || cast(conformed.x_CreditIndex as varchar) || '|' || conformed.x_RowKind
        ) as x_RowKey,
        -- BilledCost and EffectiveCost stay in the billing currency, as FOCUS requires; these add up across
        -- currencies. A row without a rate keeps null amounts here (and fails a test) rather than vanishing.
        '{{ reporting_currency }}' as x_ReportingCurrency,
        rates.exchange_rate as x_ExchangeRate,
        {{ multiply_decimals(['conformed.BilledCost', 'rates.exchange_rate']) }} as x_BilledCostInReportingCurrency,
        {{ multiply_decimals(['conformed.EffectiveCost', 'rates.exchange_rate']) }}
            as x_EffectiveCostInReportingCurrency
    from conformed
    left join {{ exchange_rates }} as rates
        on
            cast(conformed.ChargePeriodStart as date) = rates.charge_day
            and conformed.BillingCurrency = rates.from_currency

)

select * from final
-- Rows of one billing period sit together, the newest periods last, which is where a day's delivery lands:
-- an incremental run then deletes and rewrites a few adjacent blocks of storage instead of most of them.
order by BillingPeriodStart, x_BillingPeriodKey
