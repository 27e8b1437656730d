{#- A fixed shared-cost rule without percentages would leave everything it matches unallocated, and
    percentages on a proportional or even rule would be silently ignored. -#}

with

rules as (

    select
        rule_id,
        method
    from {{ ref('shared_cost_rules') }}

),

shares as (

    select distinct rule_id
    from {{ ref('shared_cost_fixed_shares') }}

)

select
    coalesce(rules.rule_id, shares.rule_id) as rule_id,
    rules.method,
    shares.rule_id is not null as has_fixed_shares
from rules
full outer join shares on rules.rule_id = shares.rule_id
where (rules.method = 'fixed') <> (shares.rule_id is not null) or rules.rule_id is null
