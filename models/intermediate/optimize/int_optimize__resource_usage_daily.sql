{#- FOCUS usage per resource and day, split into what the savings rules look at: compute time (priced per
    hour), storage (priced per GB-month) and idle meters (seeds/optimize/idle_usage_meters.csv). Amounts are
    in the reporting currency, so savings of different billing currencies can be ranked together. -#}

with

focus_costs as (

    select
        x_SourceProvider,
        ProviderName,
        BillingAccountId,
        SubAccountId,
        ResourceId,
        RegionId,
        SkuMeter,
        PricingUnit,
        cast(ChargePeriodStart as date) as charge_date,
        x_EffectiveCostInReportingCurrency as effective_cost
    from {{ ref('focus_costs') }}
    where ChargeCategory = 'Usage' and ResourceId is not null

),

idle_usage_meters as (

    select * from {{ ref('idle_usage_meters') }}

),

idle_meters as (

    {#- One pattern per meter (the first by pattern), so a meter two patterns match is still counted once. #}
    select
        meters.x_SourceProvider,
        meters.SkuMeter,
        min(idle_usage_meters.sku_meter_pattern) as idle_sku_meter_pattern
    from (
        select distinct
            x_SourceProvider,
            SkuMeter
        from focus_costs
    ) as meters
    inner join idle_usage_meters
        on
            meters.x_SourceProvider = idle_usage_meters.provider
            and meters.SkuMeter like idle_usage_meters.sku_meter_pattern
    group by meters.x_SourceProvider, meters.SkuMeter

),

classified as (

    select
        focus_costs.*,
        idle_usage_meters.resource_kind as idle_resource_kind,
        idle_usage_meters.action as idle_action,
        idle_meters.idle_sku_meter_pattern,
        focus_costs.PricingUnit = 'Hours' and idle_meters.SkuMeter is null as is_compute,
        lower(focus_costs.PricingUnit) like '%b-month%' as is_storage
    from focus_costs
    left join idle_meters
        on focus_costs.x_SourceProvider = idle_meters.x_SourceProvider and focus_costs.SkuMeter = idle_meters.SkuMeter
    left join idle_usage_meters on idle_meters.idle_sku_meter_pattern = idle_usage_meters.sku_meter_pattern

),

final as (

    select
        x_SourceProvider,
        ResourceId,
        charge_date,
        max(ProviderName) as ProviderName,
        max(BillingAccountId) as BillingAccountId,
        max(SubAccountId) as SubAccountId,
        max(RegionId) as RegionId,
        max(case when is_compute then SkuMeter end) as compute_sku_meter,
        max(idle_resource_kind) as idle_resource_kind,
        max(idle_action) as idle_action,
        max(idle_sku_meter_pattern) as idle_sku_meter_pattern,
        sum(effective_cost) as effective_cost,
        sum(case when is_compute then effective_cost else 0 end) as compute_cost,
        sum(case when is_storage then effective_cost else 0 end) as storage_cost,
        sum(case when idle_resource_kind is not null then effective_cost else 0 end) as idle_meter_cost
    from classified
    group by x_SourceProvider, ResourceId, charge_date

)

select * from final
