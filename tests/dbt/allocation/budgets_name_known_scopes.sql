{#- A budget for a team or business unit the org chart does not know would never meet an actual. -#}

with

budgets as (

    select
        scope_type,
        scope_key
    from {{ ref('budgets') }}

),

known as (

    select distinct
        'team' as scope_type,
        team as scope_key
    from {{ ref('org_hierarchy') }}

    union all

    select distinct
        'business_unit' as scope_type,
        business_unit as scope_key
    from {{ ref('org_hierarchy') }}

)

select budgets.*
from budgets
left join known
    on budgets.scope_type = known.scope_type and budgets.scope_key = known.scope_key
where known.scope_key is null
