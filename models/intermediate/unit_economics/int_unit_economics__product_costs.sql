{#- Allocated effective cost per product and day in the reporting currency: each team's allocated cost
    times the share product_cost_shares gives the product.

    A charge covering several days (a monthly tax or support fee dated the 1st, a recurring commitment fee)
    is spread evenly over the days of its charge period, so unit costs do not jump on the 1st of every
    month; the rounding remainder stays on the period's first day, so the parts add up to the charge
    exactly. Days after the latest data get their part when they arrive. -#}

with

allocated_costs as (

    select * from {{ ref('allocated_costs') }}

),

product_cost_shares as (

    select * from {{ ref('product_cost_shares') }}

),

charges as (

    select
        team,
        charge_date,
        greatest({{ days_between('charge_date', 'cast(ChargePeriodEnd as date)') }}, 1) as period_days,
        {{ multiply_decimals(['allocated_effective_cost', 'x_ExchangeRate']) }} as cost
    from allocated_costs

),

charges_with_parts as (

    select
        *,
        {{ divide_decimal('cost', 'period_days') }} as daily_part
    from charges

),

calendar as (

    select distinct charge_date as activity_date
    from allocated_costs

),

spread as (

    select
        charges.team,
        charges.charge_date as activity_date,
        charges.cost
    from charges_with_parts as charges
    where charges.period_days = 1

    union all

    select
        charges.team,
        calendar.activity_date,
        case
            when calendar.activity_date = charges.charge_date
                then charges.cost - {{ multiply_decimals(['charges.daily_part', '(charges.period_days - 1)']) }}
            else charges.daily_part
        end as cost
    from charges_with_parts as charges
    inner join calendar
        on
            charges.charge_date <= calendar.activity_date
            and calendar.activity_date < {{ date_add_days('charges.charge_date', 'charges.period_days') }}
    where charges.period_days > 1

),

team_daily as (

    select
        team,
        activity_date,
        sum(cost) as team_cost
    from spread
    group by team, activity_date

),

final as (

    select
        product_cost_shares.product,
        team_daily.activity_date as charge_date,
        {{ to_money("sum(" ~ multiply_decimals(['team_daily.team_cost', 'product_cost_shares.share']) ~ ")") }}
            as allocated_cost
    from team_daily
    inner join product_cost_shares on team_daily.team = product_cost_shares.team
    group by product_cost_shares.product, team_daily.activity_date

)

select * from final
