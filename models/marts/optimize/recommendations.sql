{#- Savings opportunities, one row per rule and resource (or commitment key): what to do, who owns it, what it
    saves per month in the reporting currency, how sure the rule is, the numbers behind it and the first day
    the data shows it. The rules live in the int_optimize__ models; the vars in dbt_project.yml. -#}

with

idle as (

    select * from {{ ref('int_optimize__idle_resources') }}

),

rightsizing as (

    select * from {{ ref('int_optimize__rightsizing_candidates') }}

),

commitments as (

    select * from {{ ref('int_optimize__commitment_candidates') }}

),

org_hierarchy as (

    select * from {{ ref('org_hierarchy') }}

),

unioned as (

    select * from idle
    union all
    select * from rightsizing
    union all
    select * from commitments

),

final as (

    select
        md5(unioned.rule || '|' || unioned.x_SourceProvider || '|' || unioned.resource_id) as recommendation_id,
        unioned.recommendation_type,
        unioned.rule,
        unioned.x_SourceProvider,
        unioned.ProviderName,
        unioned.BillingAccountId,
        unioned.SubAccountId,
        unioned.resource_id,
        unioned.region_id,
        coalesce(unioned.owner_team, 'unallocated') as owner_team,
        coalesce(org_hierarchy.business_unit, 'unallocated') as business_unit,
        unioned.action,
        cast(unioned.estimated_monthly_saving as {{ money_type() }}) as estimated_monthly_saving,
        '{{ var("reporting_currency") }}' as reporting_currency,
        unioned.confidence,
        unioned.evidence,
        cast(unioned.first_seen_date as date) as first_seen_date,
        cast(unioned.as_of_date as date) as as_of_date,
        cast(unioned.current_coverage as {{ money_type() }}) as current_coverage,
        cast(unioned.current_utilization as {{ money_type() }}) as current_utilization
    from unioned
    left join org_hierarchy on unioned.owner_team = org_hierarchy.team

)

select * from final
