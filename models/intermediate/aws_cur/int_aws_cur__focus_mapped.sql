{#- AWS CUR line items in FOCUS 1.2 terms.
    BilledCost is the unblended cost, so the FOCUS rows add up to the invoice. Discount line items stay
    separate rows (Credit) and NetUnblendedCost is not used, so a negotiated discount is counted once.
    EffectiveCost amortises commitments the way the CUR's own columns do: covered usage carries the
    commitment's effective cost, the negation and upfront rows carry nothing, and the recurring fee rows
    carry only the unused part. -#}

with

line_items as (

    select * from {{ ref('stg_aws_cur__line_items') }}

),

service_categories as (

    select * from {{ ref('service_categories') }}
    where provider = 'aws'

),

units as (

    select * from {{ ref('unit_of_measure_map') }}
    where provider = 'aws'

),

tags as (

    select * from {{ ref('int_tags__normalised') }}

),

classified as (

    select
        *,
        case
            when line_item_type in (
                'Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage', 'SavingsPlanNegation'
            ) then 'Usage'
            when line_item_type in (
                'Fee', 'RIFee', 'SavingsPlanRecurringFee', 'SavingsPlanUpfrontFee'
            ) then 'Purchase'
            when line_item_type = 'Tax' then 'Tax'
            when line_item_type in (
                'Credit', 'Refund', 'BundledDiscount', 'Discount', 'PrivateRateDiscount',
                'EdpDiscount', 'SppDiscount', 'DistributorDiscount'
            ) then 'Credit'
            else 'Adjustment'
        end as charge_category,
        case
            when savings_plan_arn is not null then savings_plan_arn
            when reservation_arn is not null then reservation_arn
        end as commitment_discount_id,
        case
            when line_item_type = 'SavingsPlanCoveredUsage' then savings_plan_effective_cost
            when line_item_type = 'DiscountedUsage' then reservation_effective_cost
            when line_item_type in ('SavingsPlanNegation', 'SavingsPlanUpfrontFee') then 0
            -- An RI's upfront fee is spread over its usage (reservation/EffectiveCost), so the fee row
            -- itself carries none of it.
            when line_item_type = 'Fee' and reservation_arn is not null then 0
            when line_item_type = 'SavingsPlanRecurringFee'
                then savings_plan_total_commitment_to_date - savings_plan_used_commitment
            when line_item_type = 'RIFee'
                then
                    coalesce(reservation_unused_amortized_upfront_fee, 0)
                    + coalesce(reservation_unused_recurring_fee, 0)
            else unblended_cost
        end as effective_cost
    from line_items

),

mapped as (

    select
        classified.*,
        coalesce(service_categories.service_category, 'Other') as service_category,
        coalesce(service_categories.service_subcategory, 'Other (Other)') as service_subcategory,
        coalesce(units.focus_unit, classified.pricing_unit) as focus_unit,
        coalesce(units.multiplier, 1) as unit_multiplier,
        tags.tags_normalised,
        tags.tags_original
    from classified
    left join service_categories on lower(classified.product_code) = service_categories.service_key
    left join units on classified.pricing_unit = units.source_unit
    left join tags on classified.resource_tags = tags.source_tags

),

final as (

    select
        -- accounts
        payer_account_id as BillingAccountId,
        -- Legacy CUR carries no account names; the id is the best display name it has.
        coalesce(payer_account_name, payer_account_id) as BillingAccountName,
        'Payer Account' as BillingAccountType,
        usage_account_id as SubAccountId,
        coalesce(usage_account_name, usage_account_id) as SubAccountName,
        case when usage_account_id is not null then 'Linked Account' end as SubAccountType,
        currency_code as BillingCurrency,
        invoice_id as InvoiceId,
        'AWS' as InvoiceIssuerName,
        'AWS' as ProviderName,
        'AWS' as PublisherName,

        -- periods
        billing_period_start as BillingPeriodStart,
        billing_period_end as BillingPeriodEnd,
        usage_start as ChargePeriodStart,
        usage_end as ChargePeriodEnd,

        -- charge
        charge_category as ChargeCategory,
        cast(null as varchar) as ChargeClass,
        coalesce(line_item_description, line_item_type) as ChargeDescription,
        case
            when charge_category = 'Usage' then 'Usage-Based'
            when charge_category = 'Purchase' and bill_type = 'Purchase' then 'One-Time'
            when charge_category in ('Purchase', 'Tax') then 'Recurring'
            else 'One-Time'
        end as ChargeFrequency,
        case
            when charge_category <> 'Usage' then null
            when commitment_discount_id is not null then 'Committed'
            when lower(usage_type) like '%spotusage%' or purchase_option = 'Spot' then 'Dynamic'
            else 'Standard'
        end as PricingCategory,

        -- money (billing currency = pricing currency: CUR prices in the currency it bills)
        unblended_cost as BilledCost,
        effective_cost as EffectiveCost,
        case
            when line_item_type = 'SavingsPlanNegation' then 0
            when charge_category = 'Usage' then coalesce(public_on_demand_cost, unblended_cost)
            else unblended_cost
        end as ListCost,
        case
            when line_item_type = 'SavingsPlanNegation' then 0
            when line_item_type = 'DiscountedUsage' then coalesce(public_on_demand_cost, unblended_cost)
            else unblended_cost
        end as ContractedCost,
        case
            when charge_category = 'Usage' and line_item_type <> 'SavingsPlanNegation'
                then cast(public_on_demand_rate / unit_multiplier as {{ money_type() }})
        end as ListUnitPrice,
        cast(null as {{ money_type() }}) as ContractedUnitPrice,
        currency_code as PricingCurrency,
        effective_cost as PricingCurrencyEffectiveCost,
        case
            when charge_category = 'Usage' and line_item_type <> 'SavingsPlanNegation'
                then cast(public_on_demand_rate / unit_multiplier as {{ money_type() }})
        end as PricingCurrencyListUnitPrice,
        cast(null as {{ money_type() }}) as PricingCurrencyContractedUnitPrice,

        -- quantities
        case
            when charge_category in ('Usage', 'Purchase') then coalesce(usage_amount * unit_multiplier, 0)
        end as PricingQuantity,
        case when charge_category in ('Usage', 'Purchase') then coalesce(focus_unit, 'Units') end as PricingUnit,
        case
            when charge_category <> 'Usage' then null
            -- The negation row only cancels the covered usage's cost; counting its quantity too would
            -- double the consumption.
            when line_item_type = 'SavingsPlanNegation' then 0
            else coalesce(usage_amount * unit_multiplier, 0)
        end as ConsumedQuantity,
        case when charge_category = 'Usage' then coalesce(focus_unit, 'Units') end as ConsumedUnit,

        -- commitment discounts
        commitment_discount_id as CommitmentDiscountId,
        case
            when savings_plan_arn is not null then 'Spend'
            when reservation_arn is not null then 'Usage'
        end as CommitmentDiscountCategory,
        case
            when savings_plan_arn is not null then 'Savings Plan'
            when reservation_arn is not null then 'Reserved Instance'
        end as CommitmentDiscountType,
        {{ last_path_segment('commitment_discount_id') }} as CommitmentDiscountName,
        case
            when commitment_discount_id is not null and charge_category = 'Usage' then 'Used'
        end as CommitmentDiscountStatus,
        case
            when commitment_discount_id is null or charge_category not in ('Usage', 'Purchase') then null
            when line_item_type = 'SavingsPlanNegation' then 0
            when line_item_type = 'SavingsPlanCoveredUsage' then savings_plan_effective_cost
            when line_item_type = 'SavingsPlanRecurringFee' then savings_plan_total_commitment_to_date
            when line_item_type = 'RIFee' then coalesce(reservation_total_reserved_units, usage_amount, 0)
            else coalesce(usage_amount, 0)
        end as CommitmentDiscountQuantity,
        case
            when commitment_discount_id is null or charge_category not in ('Usage', 'Purchase') then null
            when savings_plan_arn is not null then currency_code
            else 'Hours'
        end as CommitmentDiscountUnit,
        cast(null as varchar) as CapacityReservationId,
        cast(null as varchar) as CapacityReservationStatus,

        -- service, sku, resource, location
        coalesce(product_name, product_code) as ServiceName,
        service_category as ServiceCategory,
        service_subcategory as ServiceSubcategory,
        sku as SkuId,
        -- The rate code starts with its SKU, so every price has exactly one parent SkuId.
        case when sku is not null then pricing_rate_code end as SkuPriceId,
        usage_type as SkuMeter,
        case
            when instance_type is not null then '{"InstanceType": "' || instance_type || '"}'
        end as SkuPriceDetails,
        resource_id as ResourceId,
        {{ last_path_segment('resource_id') }} as ResourceName,
        case when resource_id is not null then coalesce(product_family, product_code, 'Resource') end as ResourceType,
        region_code as RegionId,
        case when region_code is not null then coalesce(region_name, region_code) end as RegionName,
        availability_zone as AvailabilityZone,
        tags_normalised as Tags,

        -- lineage and provider detail
        'aws' as x_SourceProvider,
        export_layout as x_SourceLayout,
        source_file as x_SourceFile,
        source_line_number as x_SourceLine,
        delivery_id as x_DeliveryId,
        billing_partition as x_BillingPartition,
        billing_period_key as x_BillingPeriodKey,
        loaded_at as x_LoadedAt,
        tags_original as x_SourceTags,
        line_item_type as x_SourceChargeType,
        product_code as x_ServiceCode,
        cast(null as varchar) as x_AmortizationSource,
        0 as x_CreditIndex,
        'charge' as x_RowKind
    from mapped

)

select * from final
