{#- A team's cost can be shared between products, but no more than all of it: shares per team add up to at
    most 1, or some cost would count in two unit costs. Returns the teams over 1. -#}

select
    team,
    sum(share) as total_share
from {{ ref('product_cost_shares') }}
group by team
having sum(share) > 1
