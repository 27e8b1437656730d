{#- The ownership tags of every distinct FOCUS tag set, with values normalised: trimmed, lower-cased, mapped
    through the tag_value_aliases seed, and checked against the org hierarchy. Tag sets repeat across
    millions of rows, so each distinct set is read once and joined back on its text. -#}

with

focus_costs as (

    select distinct Tags as focus_tags
    from {{ ref('focus_costs') }}
    where Tags is not null

),

value_aliases as (

    select
        tag_key,
        lower(trim(alias_value)) as alias_value,
        canonical_value
    from {{ ref('tag_value_aliases') }}

),

teams as (

    select team
    from {{ ref('org_hierarchy') }}

),

cost_centers as (

    select distinct cost_center
    from {{ ref('org_hierarchy') }}

),

written as (

    select
        focus_tags,
        nullif(lower(trim({{ json_text('focus_tags', 'team') }})), '') as team_written,
        nullif(lower(trim({{ json_text('focus_tags', 'env') }})), '') as env_written,
        nullif(lower(trim({{ json_text('focus_tags', 'cost_center') }})), '') as cost_center_written
    from focus_costs

),

aliased as (

    select
        written.focus_tags,
        written.team_written,
        coalesce(team_aliases.canonical_value, written.team_written) as team_value,
        coalesce(env_aliases.canonical_value, written.env_written) as env_value,
        coalesce(cost_center_aliases.canonical_value, written.cost_center_written) as cost_center_value
    from written
    left join value_aliases as team_aliases
        on team_aliases.tag_key = 'team' and written.team_written = team_aliases.alias_value
    left join value_aliases as env_aliases
        on env_aliases.tag_key = 'env' and written.env_written = env_aliases.alias_value
    left join value_aliases as cost_center_aliases
        on cost_center_aliases.tag_key = 'cost_center' and written.cost_center_written = cost_center_aliases.alias_value

),

final as (

    select
        aliased.focus_tags,
        aliased.team_value,
        teams.team as tag_team,
        aliased.env_value as tag_env,
        -- Cost-center codes are upper case in the org chart and drift in case on resources.
        cost_centers.cost_center as tag_cost_center
    from aliased
    left join teams
        on aliased.team_value = lower(teams.team)
    left join cost_centers
        on aliased.cost_center_value = lower(cost_centers.cost_center)

)

select * from final
