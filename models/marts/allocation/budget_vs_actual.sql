{#- Budgets against allocated effective cost, per team or business unit, month and billing currency.

    A budget row with an empty month is the standing monthly budget; a row for a specific month replaces it
    for that month. Months are those the allocated data covers. Month-to-date actual is the month's
    allocated cost so far; the data runs through the latest charge date in allocated_costs, and the linear
    projection scales the month-to-date actual from the days elapsed to the whole month (a closed month's
    projection is its actual). forecast_month_end_cost adds the forecast of the month's remaining days
    (cost_forecasts, the scope's series in its billing currency) to the actual so far, and is what the
    variance and status use; where a scope has no forecast series they fall back to the linear projection.
    Costs are never converted: a team spending in two currencies needs a budget in each. -#}

with

allocated_costs as (

    select * from {{ ref('allocated_costs') }}

),

budgets as (

    select * from {{ ref('budgets') }}

),

cost_forecasts as (

    select * from {{ ref('cost_forecasts') }}
    where series_type in ('team', 'business_unit')

),

data_through as (

    select max(charge_date) as data_through_date
    from allocated_costs

),

months as (

    select distinct cast({{ month_start('charge_date') }} as date) as charge_month
    from allocated_costs

),

actuals as (

    select
        cast({{ month_start('charge_date') }} as date) as charge_month,
        'team' as scope_type,
        team as scope_key,
        BillingCurrency,
        sum(allocated_effective_cost) as actual_effective_cost_mtd,
        sum(allocated_billed_cost) as actual_billed_cost_mtd
    from allocated_costs
    group by cast({{ month_start('charge_date') }} as date), team, BillingCurrency

    union all

    select
        cast({{ month_start('charge_date') }} as date) as charge_month,
        'business_unit' as scope_type,
        business_unit as scope_key,
        BillingCurrency,
        sum(allocated_effective_cost) as actual_effective_cost_mtd,
        sum(allocated_billed_cost) as actual_billed_cost_mtd
    from allocated_costs
    group by cast({{ month_start('charge_date') }} as date), business_unit, BillingCurrency

),

budget_months as (

    -- Standing budgets apply to every month with data; a month-specific row wins over them.
    select
        months.charge_month,
        budgets.scope_type,
        budgets.scope_key,
        budgets.billing_currency as BillingCurrency,
        budgets.amount as budget_amount,
        row_number() over (
            partition by months.charge_month, budgets.scope_type, budgets.scope_key, budgets.billing_currency
            order by case when budgets.month is null then 1 else 0 end
        ) as budget_rank
    from months
    inner join budgets
        on budgets.month is null or months.charge_month = budgets.month

),

month_budgets as (

    select * from budget_months
    where budget_rank = 1

),

combined as (

    select
        coalesce(actuals.charge_month, budget_months.charge_month) as charge_month,
        coalesce(actuals.scope_type, budget_months.scope_type) as scope_type,
        coalesce(actuals.scope_key, budget_months.scope_key) as scope_key,
        coalesce(actuals.BillingCurrency, budget_months.BillingCurrency) as BillingCurrency,
        budget_months.budget_amount,
        coalesce(actuals.actual_effective_cost_mtd, 0) as actual_effective_cost_mtd,
        coalesce(actuals.actual_billed_cost_mtd, 0) as actual_billed_cost_mtd
    from actuals
    full outer join month_budgets as budget_months
        on
            actuals.charge_month = budget_months.charge_month
            and actuals.scope_type = budget_months.scope_type
            and actuals.scope_key = budget_months.scope_key
            and actuals.BillingCurrency = budget_months.BillingCurrency

),

elapsed as (

    select
        combined.*,
        data_through.data_through_date,
        {{ days_between('combined.charge_month', date_add_months('combined.charge_month', 1)) }} as days_in_month,
        least(
            {{ days_between('combined.charge_month', date_add_months('combined.charge_month', 1)) }},
            {{ days_between('combined.charge_month', 'data_through.data_through_date') }} + 1
        ) as days_elapsed
    from combined
    cross join data_through

),

remaining_forecasts as (

    select
        cast({{ month_start('cost_forecasts.forecast_date') }} as date) as charge_month,
        cost_forecasts.series_type as scope_type,
        cost_forecasts.series_key as scope_key,
        cost_forecasts.currency as BillingCurrency,
        sum(cost_forecasts.predicted_cost) as remaining_forecast_cost
    from cost_forecasts
    cross join data_through
    where cost_forecasts.forecast_date > data_through.data_through_date
    group by
        cast({{ month_start('cost_forecasts.forecast_date') }} as date),
        cost_forecasts.series_type,
        cost_forecasts.series_key,
        cost_forecasts.currency

),

projected as (

    select
        elapsed.*,
        case
            when elapsed.days_elapsed >= elapsed.days_in_month then elapsed.actual_effective_cost_mtd
            else
                {{ divide_decimal(
                    multiply_decimals(['elapsed.actual_effective_cost_mtd', 'elapsed.days_in_month']),
                    'elapsed.days_elapsed'
                ) }}
        end as linear_month_end_cost,
        case
            when elapsed.days_elapsed >= elapsed.days_in_month then elapsed.actual_effective_cost_mtd
            when remaining_forecasts.remaining_forecast_cost is not null
                then elapsed.actual_effective_cost_mtd + remaining_forecasts.remaining_forecast_cost
        end as forecast_month_end_cost
    from elapsed
    left join remaining_forecasts
        on
            elapsed.charge_month = remaining_forecasts.charge_month
            and elapsed.scope_type = remaining_forecasts.scope_type
            and elapsed.scope_key = remaining_forecasts.scope_key
            and elapsed.BillingCurrency = remaining_forecasts.BillingCurrency

),

projected_with_fallback as (

    select
        *,
        coalesce(forecast_month_end_cost, linear_month_end_cost) as month_end_projection
    from projected

),

final as (

    select
        charge_month,
        scope_type,
        scope_key,
        BillingCurrency,
        cast(budget_amount as {{ money_type() }}) as budget_amount,
        cast(actual_effective_cost_mtd as {{ money_type() }}) as actual_effective_cost_mtd,
        cast(actual_billed_cost_mtd as {{ money_type() }}) as actual_billed_cost_mtd,
        data_through_date,
        days_elapsed,
        days_in_month,
        cast(linear_month_end_cost as {{ money_type() }}) as linear_month_end_cost,
        cast(forecast_month_end_cost as {{ money_type() }}) as forecast_month_end_cost,
        cast(budget_amount - actual_effective_cost_mtd as {{ money_type() }}) as budget_remaining,
        cast(month_end_projection - budget_amount as {{ money_type() }}) as projected_variance,
        case
            when budget_amount > 0 then {{ divide_decimal('month_end_projection', 'budget_amount') }}
        end as projected_budget_ratio,
        case
            when budget_amount is null then 'no_budget'
            when actual_effective_cost_mtd > budget_amount then 'over_budget'
            when month_end_projection > budget_amount then 'projected_over_budget'
            else 'within_budget'
        end as budget_status
    from projected_with_fallback

)

select * from final
