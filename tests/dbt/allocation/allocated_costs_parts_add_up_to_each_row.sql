{#- Row by row: every focus_costs row is in allocated_costs, and its parts add up to its BilledCost and
    EffectiveCost exactly. Stronger than the daily conservation test, and it names the row that breaks. -#}

with

parts as (

    select
        x_RowKey,
        sum(allocated_effective_cost) as effective_cost,
        sum(allocated_billed_cost) as billed_cost
    from {{ ref('allocated_costs') }}
    group by x_RowKey

),

source as (

    select
        x_RowKey,
        EffectiveCost as effective_cost,
        BilledCost as billed_cost
    from {{ ref('focus_costs') }}

)

select
    coalesce(source.x_RowKey, parts.x_RowKey) as x_RowKey,
    source.effective_cost as source_effective_cost,
    parts.effective_cost as allocated_effective_cost,
    source.billed_cost as source_billed_cost,
    parts.billed_cost as allocated_billed_cost
from source
full outer join parts on source.x_RowKey = parts.x_RowKey
where
    source.x_RowKey is null
    or parts.x_RowKey is null
    or source.effective_cost <> parts.effective_cost
    or source.billed_cost <> parts.billed_cost
