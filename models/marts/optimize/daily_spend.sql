{#- Spend per day, provider, account, service and billing currency: the CUR and the other exports (through
    focus_costs) for every day they cover, and AWS Cost Explorer's provisional figures for the (linked
    account, day) pairs no AWS export covers yet. Once the CUR brings any row of an account's day, Cost
    Explorer's numbers for that day drop out, so a day is never counted twice and totals then equal the
    exports' alone. Cost Explorer names services its own way ("Amazon Elastic Compute Cloud - Compute"), so
    provisional rows are matched on account and day, never on service. A day loaded both daily and hourly
    is taken from the daily rows. -#}

with

focus_costs as (

    select * from {{ ref('focus_costs') }}

),

cost_explorer as (

    select * from {{ ref('stg_aws_cost_explorer__costs') }}
    where group_by = 'LINKED_ACCOUNT,SERVICE'

),

exported as (

    select
        cast(ChargePeriodStart as date) as charge_date,
        x_SourceProvider,
        ProviderName,
        BillingAccountId,
        SubAccountId,
        ServiceName,
        BillingCurrency,
        sum(BilledCost) as billed_cost,
        sum(EffectiveCost) as effective_cost
    from focus_costs
    group by
        cast(ChargePeriodStart as date), x_SourceProvider, ProviderName, BillingAccountId, SubAccountId,
        ServiceName, BillingCurrency

),

covered_days as (

    select distinct
        SubAccountId,
        charge_date
    from exported
    where x_SourceProvider = 'aws'

),

preferred_granularity as (

    select
        account_id,
        charge_date,
        min(granularity) as granularity
    from cost_explorer
    group by account_id, charge_date

),

provisional as (

    select
        cost_explorer.charge_date,
        'aws' as x_SourceProvider,
        'AWS' as ProviderName,
        cast(null as varchar) as BillingAccountId,
        cost_explorer.account_id as SubAccountId,
        cost_explorer.group_value as ServiceName,
        cost_explorer.billing_currency as BillingCurrency,
        sum(cost_explorer.billed_cost) as billed_cost,
        sum(cost_explorer.effective_cost) as effective_cost
    from cost_explorer
    inner join preferred_granularity
        on
            cost_explorer.account_id = preferred_granularity.account_id
            and cost_explorer.charge_date = preferred_granularity.charge_date
            and cost_explorer.granularity = preferred_granularity.granularity
    left join covered_days
        on cost_explorer.account_id = covered_days.SubAccountId and cost_explorer.charge_date = covered_days.charge_date
    where covered_days.SubAccountId is null
    group by
        cost_explorer.charge_date, cost_explorer.account_id, cost_explorer.group_value, cost_explorer.billing_currency

),

final as (

    select
        *,
        false as is_provisional,
        'focus_costs' as source
    from exported
    union all
    select
        *,
        true as is_provisional,
        'aws_cost_explorer' as source
    from provisional

)

select
    charge_date,
    x_SourceProvider,
    ProviderName,
    BillingAccountId,
    SubAccountId,
    ServiceName,
    BillingCurrency,
    cast(billed_cost as {{ money_type() }}) as billed_cost,
    cast(effective_cost as {{ money_type() }}) as effective_cost,
    is_provisional,
    source
from final
