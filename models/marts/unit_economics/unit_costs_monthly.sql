{#- unit_costs_daily rolled up to calendar months, with active users counted distinct over the month. -#}

with

unit_costs_daily as (

    select * from {{ ref('unit_costs_daily') }}

),

monthly_active_users as (

    select * from {{ ref('int_events__monthly_active_users') }}

),

monthly as (

    select
        product,
        product_name,
        owner_team,
        business_unit,
        cast({{ month_start('activity_date') }} as date) as activity_month,
        currency,
        count(*) as days,
        sum(allocated_cost) as allocated_cost,
        sum(transactions) as transactions,
        sum(api_calls) as api_calls,
        -- Null when any day's revenue is unknown (a currency without a rate), rather than a short sum.
        case when count(*) = count(revenue) then sum(revenue) end as revenue
    from unit_costs_daily
    group by
        product, product_name, owner_team, business_unit, cast({{ month_start('activity_date') }} as date), currency

),

final as (

    select
        monthly.product,
        monthly.product_name,
        monthly.owner_team,
        monthly.business_unit,
        monthly.activity_month,
        monthly.currency,
        monthly.days,
        cast(monthly.allocated_cost as {{ money_type() }}) as allocated_cost,
        cast(monthly.transactions as bigint) as transactions,
        cast(coalesce(monthly_active_users.active_users, 0) as bigint) as active_users,
        cast(monthly.api_calls as bigint) as api_calls,
        cast(monthly.revenue as {{ money_type() }}) as revenue,
        {{ divide_decimal('monthly.allocated_cost', 'monthly.transactions') }} as cost_per_transaction,
        {{ divide_decimal('monthly.allocated_cost', 'coalesce(monthly_active_users.active_users, 0)') }}
            as cost_per_active_user,
        {{ divide_decimal('monthly.allocated_cost * 1000', 'monthly.api_calls') }} as cost_per_1k_api_calls,
        cast(monthly.revenue - monthly.allocated_cost as {{ money_type() }}) as gross_margin,
        {{ divide_decimal('monthly.revenue - monthly.allocated_cost', 'monthly.revenue') }} as gross_margin_ratio
    from monthly
    left join monthly_active_users
        on
            monthly.product = monthly_active_users.product
            and monthly.activity_month = monthly_active_users.activity_month

)

select * from final
