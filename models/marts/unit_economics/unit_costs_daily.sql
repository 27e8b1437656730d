{#- Unit economics per product and day, in the reporting currency: the product's allocated cost next to
    its business volume (transactions, active users, API calls), the cost of one unit of each, revenue and
    gross margin. A ratio whose denominator is zero is null, never an infinity or an error. -#}

{%- set reporting_currency = var('reporting_currency') -%}

with

daily_volumes as (

    select * from {{ ref('int_events__daily_volumes') }}

),

product_costs as (

    select * from {{ ref('int_unit_economics__product_costs') }}

),

products as (

    select * from {{ ref('products') }}

),

org_hierarchy as (

    select * from {{ ref('org_hierarchy') }}

),

rates as (

    select * from {{ ref('int_fx__rates_picked') }}

),

volumes as (

    select
        daily_volumes.product,
        daily_volumes.event_date as activity_date,
        sum(case when daily_volumes.event_type = 'transaction' then daily_volumes.events else 0 end)
            as transactions,
        sum(case when daily_volumes.event_type = 'active_user' then daily_volumes.distinct_users else 0 end)
            as active_users,
        sum(case when daily_volumes.event_type = 'api_call' then daily_volumes.quantity else 0 end) as api_calls,
        sum(
            case
                when daily_volumes.event_type = 'transaction'
                    then {{ multiply_decimals(['daily_volumes.revenue', 'rates.exchange_rate']) }}
                else 0
            end
        ) as revenue,
        -- Revenue in a currency without a known rate would be left out of the sum without a word.
        sum(
            case
                when
                    daily_volumes.event_type = 'transaction'
                    and daily_volumes.revenue <> 0
                    and rates.exchange_rate is null
                    then 1
                else 0
            end
        ) as revenue_rows_without_rate
    from daily_volumes
    left join rates
        on
            daily_volumes.event_date = rates.charge_day
            and daily_volumes.revenue_currency = rates.from_currency
    group by daily_volumes.product, daily_volumes.event_date

),

product_days as (

    select
        product,
        activity_date
    from volumes
    union
    select
        product,
        charge_date as activity_date
    from product_costs

),

combined as (

    select
        product_days.product,
        product_days.activity_date,
        coalesce(product_costs.allocated_cost, 0) as allocated_cost,
        coalesce(volumes.transactions, 0) as transactions,
        coalesce(volumes.active_users, 0) as active_users,
        coalesce(volumes.api_calls, 0) as api_calls,
        case when coalesce(volumes.revenue_rows_without_rate, 0) = 0 then coalesce(volumes.revenue, 0) end
            as revenue
    from product_days
    left join product_costs
        on product_days.product = product_costs.product and product_days.activity_date = product_costs.charge_date
    left join volumes
        on product_days.product = volumes.product and product_days.activity_date = volumes.activity_date

),

final as (

    select
        combined.product,
        coalesce(products.product_name, combined.product) as product_name,
        coalesce(products.owner_team, 'unallocated') as owner_team,
        coalesce(org_hierarchy.business_unit, 'unallocated') as business_unit,
        combined.activity_date,
        '{{ reporting_currency }}' as currency,
        cast(combined.allocated_cost as {{ money_type() }}) as allocated_cost,
        cast(combined.transactions as bigint) as transactions,
        cast(combined.active_users as bigint) as active_users,
        cast(combined.api_calls as bigint) as api_calls,
        cast(combined.revenue as {{ money_type() }}) as revenue,
        {{ divide_decimal('combined.allocated_cost', 'combined.transactions') }} as cost_per_transaction,
        {{ divide_decimal('combined.allocated_cost', 'combined.active_users') }} as cost_per_active_user,
        {{ divide_decimal('combined.allocated_cost * 1000', 'combined.api_calls') }} as cost_per_1k_api_calls,
        cast(combined.revenue - combined.allocated_cost as {{ money_type() }}) as gross_margin,
        {{ divide_decimal('combined.revenue - combined.allocated_cost', 'combined.revenue') }} as gross_margin_ratio
    from combined
    left join products on combined.product = products.product
    left join org_hierarchy on products.owner_team = org_hierarchy.team

)

select * from final
