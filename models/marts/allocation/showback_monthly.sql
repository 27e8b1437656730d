{#- Allocated cost per owner and month: business unit, team and cost center x charge month x provider x
    service category x billing currency. The month is the month of ChargePeriodStart (when the cost was
    incurred), so a month's showback does not move when an invoice is issued. Currencies are never added
    together: each row is in one BillingCurrency. -#}

with

allocated_costs as (

    select * from {{ ref('allocated_costs') }}

),

final as (

    select
        cast({{ month_start('charge_date') }} as date) as charge_month,
        business_unit,
        team,
        cost_center,
        x_SourceProvider,
        ServiceCategory,
        BillingCurrency,
        {{ to_money('sum(allocated_billed_cost)') }} as billed_cost,
        {{ to_money('sum(allocated_effective_cost)') }} as effective_cost,
        {{ to_money(
            "sum(case when allocation_method like 'shared%' then allocated_effective_cost else 0 end)"
        ) }} as shared_effective_cost,
        cast(count(distinct x_RowKey) as bigint) as charge_count
    from allocated_costs
    group by
        cast({{ month_start('charge_date') }} as date),
        business_unit,
        team,
        cost_center,
        x_SourceProvider,
        ServiceCategory,
        BillingCurrency

)

select * from final
