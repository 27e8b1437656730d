{#- The FOCUS cost table: every provider's FOCUS-mapped rows, one schema. -#}

{%- set providers = [
    ref('int_aws_cur__focus_mapped'),
    ref('int_azure_cost__focus_mapped'),
    ref('int_gcp_billing__focus_mapped'),
] -%}

with

unioned as (

    {% for provider in providers %}
        select
            AvailabilityZone,
            BilledCost,
            BillingAccountId,
            BillingAccountName,
            BillingAccountType,
            BillingCurrency,
            BillingPeriodEnd,
            BillingPeriodStart,
            CapacityReservationId,
            CapacityReservationStatus,
            ChargeCategory,
            ChargeClass,
            ChargeDescription,
            ChargeFrequency,
            ChargePeriodEnd,
            ChargePeriodStart,
            CommitmentDiscountCategory,
            CommitmentDiscountId,
            CommitmentDiscountName,
            CommitmentDiscountQuantity,
            CommitmentDiscountStatus,
            CommitmentDiscountType,
            CommitmentDiscountUnit,
            ConsumedQuantity,
            ConsumedUnit,
            ContractedCost,
            ContractedUnitPrice,
            EffectiveCost,
            InvoiceId,
            InvoiceIssuerName,
            ListCost,
            ListUnitPrice,
            PricingCategory,
            PricingCurrency,
            PricingCurrencyContractedUnitPrice,
            PricingCurrencyEffectiveCost,
            PricingCurrencyListUnitPrice,
            PricingQuantity,
            PricingUnit,
            ProviderName,
            PublisherName,
            RegionId,
            RegionName,
            ResourceId,
            ResourceName,
            ResourceType,
            ServiceCategory,
            ServiceName,
            ServiceSubcategory,
            SkuId,
            SkuMeter,
            SkuPriceDetails,
            SkuPriceId,
            SubAccountId,
            SubAccountName,
            SubAccountType,
            Tags,
            x_SourceProvider,
            x_SourceLayout,
            x_SourceFile,
            x_SourceLine,
            x_DeliveryId,
            x_BillingPartition,
            x_LoadedAt,
            x_SourceTags,
            x_SourceChargeType,
            x_ServiceCode,
            x_AmortizationSource,
            x_CreditIndex
        from {{ provider }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        *,
        '{{ var("focus_version") }}' as x_FocusVersion,
        md5(
            x_SourceProvider || '|' || x_SourceFile || '|' || cast(x_SourceLine as varchar)
            || '|' || cast(x_CreditIndex as varchar)
        ) as x_RowKey
    from unioned

)

select * from final
