{#- Conservation: for every day x provider x billing account x currency, allocated_costs adds up to exactly
    the EffectiveCost and the BilledCost of focus_costs. Returns every group that differs, or that exists
    on one side only. -#}

with

allocated as (

    select
        charge_date,
        x_SourceProvider,
        BillingAccountId,
        BillingCurrency,
        sum(allocated_effective_cost) as effective_cost,
        sum(allocated_billed_cost) as billed_cost
    from {{ ref('allocated_costs') }}
    group by charge_date, x_SourceProvider, BillingAccountId, BillingCurrency

),

source as (

    select
        cast(ChargePeriodStart as date) as charge_date,
        x_SourceProvider,
        BillingAccountId,
        BillingCurrency,
        sum(EffectiveCost) as effective_cost,
        sum(BilledCost) as billed_cost
    from {{ ref('focus_costs') }}
    group by cast(ChargePeriodStart as date), x_SourceProvider, BillingAccountId, BillingCurrency

),

compared as (

    select
        coalesce(allocated.charge_date, source.charge_date) as charge_date,
        coalesce(allocated.x_SourceProvider, source.x_SourceProvider) as x_SourceProvider,
        coalesce(allocated.BillingAccountId, source.BillingAccountId) as BillingAccountId,
        coalesce(allocated.BillingCurrency, source.BillingCurrency) as BillingCurrency,
        source.effective_cost as source_effective_cost,
        allocated.effective_cost as allocated_effective_cost,
        source.billed_cost as source_billed_cost,
        allocated.billed_cost as allocated_billed_cost
    from allocated
    full outer join source
        on
            allocated.charge_date = source.charge_date
            and allocated.x_SourceProvider = source.x_SourceProvider
            and allocated.BillingAccountId = source.BillingAccountId
            and allocated.BillingCurrency = source.BillingCurrency

)

select *
from compared
where
    source_effective_cost is null
    or allocated_effective_cost is null
    or source_effective_cost <> allocated_effective_cost
    or source_billed_cost <> allocated_billed_cost
