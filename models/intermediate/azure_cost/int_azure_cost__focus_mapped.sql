{#- Azure cost details in FOCUS 1.2 terms. BilledCost comes from the actual export and EffectiveCost
    from the amortized one. Where a billing period has no amortized export, EffectiveCost falls back to
    the billed amount (nothing can be spread), and x_AmortizationSource says so. -#}

with

charges as (

    select
        *,
        charge_type in ('Purchase') and pricing_model in ('Reservation', 'SavingsPlan')
            as is_commitment_purchase,
        coalesce(benefit_id, reservation_id) as commitment_id
    from {{ ref('int_azure_cost__datasets_paired') }}

),

service_categories as (

    select * from {{ ref('service_categories') }}
    where provider = 'azure'

),

units as (

    select * from {{ ref('unit_of_measure_map') }}
    where provider = 'azure'

),

tags as (

    select * from {{ ref('int_tags__normalised') }}

),

classified as (

    select
        charges.*,
        case
            when charges.charge_type in ('Usage', 'UnusedReservation', 'UnusedSavingsPlan') then 'Usage'
            when charges.charge_type in ('Purchase', 'Refund') then 'Purchase'
            when charges.charge_type = 'Tax' then 'Tax'
            when charges.charge_type = 'Credit' then 'Credit'
            else 'Adjustment'
        end as charge_category,
        coalesce(charges.actual_cost, 0) as billed_cost,
        case
            when charges.amortized_cost is not null then charges.amortized_cost
            when not charges.has_amortized_export then charges.actual_cost
            -- The purchase is spread over the usage it covers, which the amortized export carries.
            when charges.is_commitment_purchase then 0
            else charges.actual_cost
        end as effective_cost,
        case
            when charges.commitment_id is null then null
            when
                lower(charges.commitment_id) like '%/microsoft.billingbenefits/%'
                or charges.pricing_model = 'SavingsPlan'
                then 'Spend'
            else 'Usage'
        end as commitment_category,
        coalesce(charges.exchange_rate_pricing_to_billing, 1) as pricing_to_billing_rate,
        coalesce(service_categories.service_category, 'Other') as service_category,
        coalesce(service_categories.service_subcategory, 'Other (Other)') as service_subcategory,
        coalesce(units.focus_unit, charges.unit_of_measure) as focus_unit,
        coalesce(units.multiplier, 1) as unit_multiplier,
        tags.tags_normalised,
        tags.tags_original
    from charges
    -- Keyed by the ServiceName the row gets, so each ServiceName has exactly one category, as FOCUS requires.
    left join service_categories
        on
            lower(coalesce(charges.meter_category, charges.consumed_service, charges.product_name))
            = service_categories.service_key
    left join units on charges.unit_of_measure = units.source_unit
    left join tags on charges.tags = tags.source_tags

),

final as (

    select
        -- accounts: an MCA invoice is per billing profile; an EA invoice per enrollment
        coalesce(billing_profile_id, billing_account_id) as BillingAccountId,
        coalesce(billing_profile_name, billing_account_name, billing_profile_id, billing_account_id)
            as BillingAccountName,
        case
            when billing_profile_id is not null and billing_profile_id <> billing_account_id
                then 'Billing Profile'
            else 'Billing Account'
        end as BillingAccountType,
        subscription_id as SubAccountId,
        coalesce(subscription_name, subscription_id) as SubAccountName,
        case when subscription_id is not null then 'Subscription' end as SubAccountType,
        billing_currency as BillingCurrency,
        invoice_id as InvoiceId,
        'Microsoft' as InvoiceIssuerName,
        'Microsoft' as ProviderName,
        case when publisher_type = 'Marketplace' then coalesce(publisher_name, 'Microsoft') else 'Microsoft' end
            as PublisherName,

        -- periods: Azure's billing period end is the inclusive last day; FOCUS wants the exclusive bound
        billing_period_start as BillingPeriodStart,
        {{ add_days('billing_period_last_day', 1) }} as BillingPeriodEnd,
        charge_date as ChargePeriodStart,
        {{ add_days('charge_date', 1) }} as ChargePeriodEnd,

        -- charge
        charge_category as ChargeCategory,
        case when charge_type = 'Refund' then 'Correction' end as ChargeClass,
        coalesce(product_name, meter_name, charge_type) as ChargeDescription,
        case
            when frequency = 'OneTime' then 'One-Time'
            when frequency = 'Recurring' then 'Recurring'
            when frequency = 'UsageBased' then 'Usage-Based'
            when charge_category = 'Usage' then 'Usage-Based'
            else 'One-Time'
        end as ChargeFrequency,
        case
            when charge_category not in ('Usage', 'Purchase') then null
            when pricing_model in ('Reservation', 'SavingsPlan') then 'Committed'
            when pricing_model = 'Spot' then 'Dynamic'
            when pricing_model = 'OnDemand' then 'Standard'
            else 'Other'
        end as PricingCategory,

        -- money
        billed_cost as BilledCost,
        effective_cost as EffectiveCost,
        coalesce(
            payg_cost,
            {{ multiply_decimals(['payg_price', 'quantity', 'pricing_to_billing_rate']) }},
            billed_cost
        ) as ListCost,
        coalesce(
            {{ multiply_decimals(['unit_price', 'quantity', 'pricing_to_billing_rate']) }},
            effective_cost
        ) as ContractedCost,
        cast({{ multiply_decimals(['payg_price', 'pricing_to_billing_rate']) }} / unit_multiplier as {{ money_type() }})
            as ListUnitPrice,
        cast({{ multiply_decimals(['unit_price', 'pricing_to_billing_rate']) }} / unit_multiplier as {{ money_type() }})
            as ContractedUnitPrice,
        coalesce(pricing_currency, billing_currency) as PricingCurrency,
        cast(effective_cost / pricing_to_billing_rate as {{ money_type() }}) as PricingCurrencyEffectiveCost,
        cast(payg_price / unit_multiplier as {{ money_type() }}) as PricingCurrencyListUnitPrice,
        cast(unit_price / unit_multiplier as {{ money_type() }}) as PricingCurrencyContractedUnitPrice,

        -- quantities, rescaled so that "10K" of something becomes 10,000 Units
        case when charge_category in ('Usage', 'Purchase') then coalesce(quantity * unit_multiplier, 0) end
            as PricingQuantity,
        case when charge_category in ('Usage', 'Purchase') then coalesce(focus_unit, 'Units') end as PricingUnit,
        case when charge_category = 'Usage' then coalesce(quantity * unit_multiplier, 0) end as ConsumedQuantity,
        case when charge_category = 'Usage' then coalesce(focus_unit, 'Units') end as ConsumedUnit,

        -- commitment discounts
        commitment_id as CommitmentDiscountId,
        commitment_category as CommitmentDiscountCategory,
        case commitment_category when 'Spend' then 'Savings Plan' when 'Usage' then 'Reservation' end
            as CommitmentDiscountType,
        coalesce(benefit_name, reservation_name) as CommitmentDiscountName,
        case
            when commitment_id is null or charge_category <> 'Usage' then null
            when charge_type like 'Unused%' then 'Unused'
            else 'Used'
        end as CommitmentDiscountStatus,
        case
            when commitment_id is null or charge_category not in ('Usage', 'Purchase') then null
            when commitment_category = 'Spend' then effective_cost
            else coalesce(quantity * unit_multiplier, 0)
        end as CommitmentDiscountQuantity,
        case
            when commitment_id is null or charge_category not in ('Usage', 'Purchase') then null
            when commitment_category = 'Spend' then billing_currency
            else coalesce(focus_unit, 'Units')
        end as CommitmentDiscountUnit,
        cast(null as varchar) as CapacityReservationId,
        cast(null as varchar) as CapacityReservationStatus,

        -- service, sku, resource, location
        coalesce(meter_category, consumed_service, product_name) as ServiceName,
        service_category as ServiceCategory,
        service_subcategory as ServiceSubcategory,
        product_id as SkuId,
        -- A meter is priced per product; the pair keeps each price under exactly one SkuId.
        case when product_id is not null and meter_id is not null then product_id || ':' || meter_id end
            as SkuPriceId,
        meter_name as SkuMeter,
        cast(null as varchar) as SkuPriceDetails,
        resource_id as ResourceId,
        coalesce(resource_name, {{ last_path_segment('resource_id') }}) as ResourceName,
        case
            when resource_id is not null then coalesce(
                {{ regexp_group('resource_id', '/providers/([^/<>]+/[^/<>]+)') }}, consumed_service, 'Resource'
            )
        end as ResourceType,
        lower(replace(resource_location, ' ', '')) as RegionId,
        case when resource_location is not null then coalesce(meter_region, resource_location) end as RegionName,
        availability_zone as AvailabilityZone,
        tags_normalised as Tags,

        -- lineage and provider detail
        'azure' as x_SourceProvider,
        case
            when billing_profile_id is not null and billing_profile_id <> billing_account_id then 'mca'
            else 'ea'
        end as x_SourceLayout,
        coalesce(source_file, amortized_source_file) as x_SourceFile,
        coalesce(source_line_number, amortized_source_line_number) as x_SourceLine,
        delivery_id as x_DeliveryId,
        billing_partition as x_BillingPartition,
        billing_period_key as x_BillingPeriodKey,
        loaded_at as x_LoadedAt,
        tags_original as x_SourceTags,
        charge_type as x_SourceChargeType,
        consumed_service as x_ServiceCode,
        case
            when actual_cost is not null and amortized_cost is not null then 'actual+amortized'
            when actual_cost is not null and has_amortized_export then 'actual only'
            when actual_cost is not null then 'actual (no amortized export)'
            else 'amortized only'
        end as x_AmortizationSource,
        0 as x_CreditIndex,
        'charge' as x_RowKind
    from classified

)

select * from final
