{#- The ten teams whose allocated effective cost moved most between the last seven days of data and the
    seven days before, per billing currency (amounts in different currencies are never ranked together).
    Weeks are rolling and end on the latest charge date, so a week is never partial. Monthly charges (tax,
    support, commitment fees) are dated on the first of the month and show up in the week holding it. -#}

with

allocated_costs as (

    select * from {{ ref('allocated_costs') }}

),

data_through as (

    select max(charge_date) as last_day
    from allocated_costs

),

weekly as (

    select
        allocated_costs.team,
        allocated_costs.business_unit,
        allocated_costs.BillingCurrency,
        sum(
            case
                when allocated_costs.charge_date > {{ date_add_days('data_through.last_day', -7) }}
                    then allocated_costs.allocated_effective_cost
                else 0
            end
        ) as this_week_effective_cost,
        sum(
            case
                when allocated_costs.charge_date <= {{ date_add_days('data_through.last_day', -7) }}
                    then allocated_costs.allocated_effective_cost
                else 0
            end
        ) as previous_week_effective_cost
    from allocated_costs
    cross join data_through
    where allocated_costs.charge_date > {{ date_add_days('data_through.last_day', -14) }}
    group by allocated_costs.team, allocated_costs.business_unit, allocated_costs.BillingCurrency

),

ranked as (

    select
        *,
        this_week_effective_cost - previous_week_effective_cost as change,
        case
            when previous_week_effective_cost > 0
                then {{ divide_decimal(
                    'this_week_effective_cost - previous_week_effective_cost',
                    'previous_week_effective_cost',
                ) }}
        end as change_ratio,
        row_number() over (
            partition by BillingCurrency
            order by abs(this_week_effective_cost - previous_week_effective_cost) desc, team asc
        ) as mover_rank
    from weekly

)

select
    BillingCurrency,
    mover_rank,
    team,
    business_unit,
    previous_week_effective_cost,
    this_week_effective_cost,
    change,
    change_ratio
from ranked
where mover_rank <= 10
order by BillingCurrency, mover_rank
