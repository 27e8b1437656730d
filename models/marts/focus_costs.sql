{#- The FOCUS cost table: every provider's FOCUS-mapped rows in one schema, conformed to the FOCUS 1.2
    rules that hold across providers, with lineage and a unique row key. -#}

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

{%- set providers = [
    ref('int_aws_cur__focus_mapped'),
    ref('int_azure_cost__focus_mapped'),
    ref('int_gcp_billing__focus_mapped'),
] -%}

with

unioned as (

    {% for provider in providers -%}
    select {{ columns | join(', ') }}
    from {{ provider }}
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
        {%- elif column in ['ListUnitPrice', 'ContractedUnitPrice', 'PricingCurrencyListUnitPrice', 'PricingCurrencyContractedUnitPrice'] %}
        -- a unit price is never negative; refunds carry the sign in the cost, not in the price
        case when {{ column }} >= 0 then {{ column }} end as {{ column }}
        {%- elif column in ['ConsumedQuantity', 'ConsumedUnit'] %}
        case when CommitmentDiscountStatus is distinct from 'Unused' then {{ column }} end as {{ column }}
        {%- elif column in ['CommitmentDiscountQuantity', 'CommitmentDiscountUnit'] %}
        case when ChargeClass is distinct from 'Correction' then {{ column }} end as {{ column }}
        {%- else %}
        {{ column }}
        {%- endif %}{{ ',' if not loop.last }}
        {%- endfor %}
    from purchases_split

),

final as (

    select
        *,
        '{{ var("focus_version") }}' as x_FocusVersion,
        md5(
            x_SourceProvider || '|' || x_SourceFile || '|' || cast(x_SourceLine as varchar)
            || '|' || cast(x_CreditIndex as varchar) || '|' || x_RowKind
        ) as x_RowKey
    from conformed

)

select * from final
