{#- Daily usage cost per anomaly series: provider x service x owner, in the reporting currency.

    The owner is the team, or the sub account (AWS account, Azure subscription, GCP project) where
    allocation found no team, so unowned spend is still watched. Only Usage-Based charges count: fees,
    taxes, amortised commitments, purchases and credits land on calendar days (a tax line on the 1st, an
    amortisation that changes with the month's length) and would flag every month. -#}

{{ config(materialized='table') }}

with

allocated_costs as (

    select * from {{ ref('allocated_costs') }}
    where ChargeFrequency = 'Usage-Based'

),

owned as (

    select
        x_SourceProvider as provider,
        ServiceName as service_name,
        ServiceCategory as service_category,
        case when team = 'unallocated' then coalesce(SubAccountId, BillingAccountId) else team end as owner,
        case when team = 'unallocated' then 'account' else 'team' end as owner_type,
        team,
        business_unit,
        charge_date,
        {{ multiply_decimals(['allocated_effective_cost', 'x_ExchangeRate']) }} as cost_in_reporting_currency
    from allocated_costs

),

final as (

    select
        provider || '|' || service_name || '|' || owner as anomaly_series_key,
        provider,
        service_name,
        owner,
        owner_type,
        charge_date,
        max(service_category) as service_category,
        max(team) as team,
        max(business_unit) as business_unit,
        '{{ var("reporting_currency") }}' as currency,
        {{ to_money("sum(cost_in_reporting_currency)") }} as actual_cost
    from owned
    group by provider, service_name, owner, owner_type, charge_date

)

select * from final
