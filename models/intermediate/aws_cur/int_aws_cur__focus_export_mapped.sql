{#- AWS's FOCUS 1.0 data export brought to FOCUS 1.2. The export is FOCUS already; what 1.2 adds is filled
    from what the row holds (account types, ServiceSubcategory from the service map, commitment quantity
    and unit, pricing currency), and the names follow the CUR mapping so that one provider has one
    ProviderName/InvoiceIssuerName whichever export it came from. -#}

with

export_rows as (

    select * from {{ ref('stg_aws_cur__focus_line_items') }}

),

service_categories as (

    select * from {{ ref('service_categories') }}
    where provider = 'aws'

),

tags as (

    select * from {{ ref('int_tags__normalised') }}

),

enriched as (

    select
        export_rows.*,
        service_categories.service_subcategory as mapped_subcategory,
        service_categories.service_category as mapped_category,
        tags.tags_normalised,
        tags.tags_original
    from export_rows
    left join service_categories on lower(export_rows.service_code) = service_categories.service_key
    left join tags on export_rows.tags = tags.source_tags

),

final as (

    select
        billing_account_id as BillingAccountId,
        coalesce(billing_account_name, billing_account_id) as BillingAccountName,
        'Payer Account' as BillingAccountType,
        sub_account_id as SubAccountId,
        coalesce(sub_account_name, sub_account_id) as SubAccountName,
        case when sub_account_id is not null then 'Linked Account' end as SubAccountType,
        billing_currency as BillingCurrency,
        cast(null as varchar) as InvoiceId,
        -- The export names the legal entity as issuer; FOCUS 1.2 then requires BilledCost 0 on every row
        -- (BilledCost-C-005-C). The CUR mapping uses 'AWS' for both, and so does this one.
        case when provider_name = 'AWS' then 'AWS' else invoice_issuer_name end as InvoiceIssuerName,
        provider_name as ProviderName,
        case when publisher_name like 'Amazon Web Services%' then 'AWS' else publisher_name end as PublisherName,
        billing_period_start as BillingPeriodStart,
        billing_period_end as BillingPeriodEnd,
        charge_period_start as ChargePeriodStart,
        charge_period_end as ChargePeriodEnd,
        charge_category as ChargeCategory,
        charge_class as ChargeClass,
        charge_description as ChargeDescription,
        charge_frequency as ChargeFrequency,
        case
            when charge_category in ('Usage', 'Purchase') then coalesce(pricing_category, 'Standard')
        end as PricingCategory,
        billed_cost as BilledCost,
        effective_cost as EffectiveCost,
        coalesce(list_cost, billed_cost) as ListCost,
        coalesce(contracted_cost, billed_cost) as ContractedCost,
        list_unit_price as ListUnitPrice,
        contracted_unit_price as ContractedUnitPrice,
        billing_currency as PricingCurrency,
        effective_cost as PricingCurrencyEffectiveCost,
        list_unit_price as PricingCurrencyListUnitPrice,
        contracted_unit_price as PricingCurrencyContractedUnitPrice,
        case when charge_category in ('Usage', 'Purchase') then coalesce(pricing_quantity, 0) end
            as PricingQuantity,
        case when charge_category in ('Usage', 'Purchase') then coalesce(pricing_unit, 'Units') end
            as PricingUnit,
        case when charge_category = 'Usage' then coalesce(consumed_quantity, 0) end as ConsumedQuantity,
        case when charge_category = 'Usage' then coalesce(consumed_unit, pricing_unit, 'Units') end
            as ConsumedUnit,
        commitment_discount_id as CommitmentDiscountId,
        commitment_discount_category as CommitmentDiscountCategory,
        commitment_discount_type as CommitmentDiscountType,
        coalesce(commitment_discount_name, {{ last_path_segment('commitment_discount_id') }})
            as CommitmentDiscountName,
        case
            when commitment_discount_id is not null and charge_category = 'Usage'
                then coalesce(commitment_discount_status, 'Used')
        end as CommitmentDiscountStatus,
        case
            when commitment_discount_id is not null and charge_category in ('Usage', 'Purchase')
                then case
                    when commitment_discount_category = 'Spend' then effective_cost
                    else coalesce(pricing_quantity, 0)
                end
        end as CommitmentDiscountQuantity,
        case
            when commitment_discount_id is not null and charge_category in ('Usage', 'Purchase')
                then case
                    when commitment_discount_category = 'Spend' then billing_currency
                    else coalesce(pricing_unit, 'Units')
                end
        end as CommitmentDiscountUnit,
        cast(null as varchar) as CapacityReservationId,
        cast(null as varchar) as CapacityReservationStatus,
        coalesce(service_name, service_code) as ServiceName,
        coalesce(service_category, mapped_category, 'Other') as ServiceCategory,
        -- Only a subcategory of the row's own category is valid; otherwise the category's "Other".
        case
            when mapped_category = coalesce(service_category, mapped_category) then mapped_subcategory
            else 'Other (' || coalesce(service_category, 'Other') || ')'
        end as ServiceSubcategory,
        sku_id as SkuId,
        sku_price_id as SkuPriceId,
        usage_type as SkuMeter,
        cast(null as varchar) as SkuPriceDetails,
        resource_id as ResourceId,
        coalesce(resource_name, {{ last_path_segment('resource_id') }}) as ResourceName,
        case when resource_id is not null then coalesce(resource_type, service_code, 'Resource') end as ResourceType,
        region_id as RegionId,
        case when region_id is not null then coalesce(region_name, region_id) end as RegionName,
        availability_zone as AvailabilityZone,
        tags_normalised as Tags,
        'aws' as x_SourceProvider,
        'focus_1_0' as x_SourceLayout,
        source_file as x_SourceFile,
        source_line_number as x_SourceLine,
        delivery_id as x_DeliveryId,
        billing_partition as x_BillingPartition,
        loaded_at as x_LoadedAt,
        tags_original as x_SourceTags,
        charge_category as x_SourceChargeType,
        service_code as x_ServiceCode,
        cast(null as varchar) as x_AmortizationSource,
        0 as x_CreditIndex,
        'charge' as x_RowKind
    from enriched

)

select * from final
