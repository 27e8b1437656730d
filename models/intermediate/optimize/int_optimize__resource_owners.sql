{#- The owner of each resource: the team carrying most of its allocated effective cost over its history
    (allocated_costs, where every row already has a team or `unallocated`). A resource split between teams
    by a shared-cost rule goes to the biggest share; ties go to the first team by name. -#}

with

allocated_costs as (

    select
        x_SourceProvider,
        ResourceId,
        team,
        allocated_effective_cost
    from {{ ref('allocated_costs') }}
    where ResourceId is not null and ChargeCategory = 'Usage'

),

per_team as (

    select
        x_SourceProvider,
        ResourceId,
        team,
        sum(allocated_effective_cost) as allocated_effective_cost
    from allocated_costs
    group by x_SourceProvider, ResourceId, team

),

ranked as (

    select
        *,
        row_number() over (
            partition by x_SourceProvider, ResourceId order by allocated_effective_cost desc, team asc
        ) as team_rank
    from per_team

),

final as (

    select
        x_SourceProvider,
        ResourceId,
        team as owner_team
    from ranked
    where team_rank = 1

)

select * from final
