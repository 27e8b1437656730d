{#- Steps 4 and 5 of the allocation hierarchy: every FOCUS row without an owner is split by the first
    shared_cost_rules row that matches it (lowest priority, then rule_id; an empty selector matches
    anything), or stays whole as `unallocated`.

    Methods:
      proportional  consumers' owned effective cost (steps 1-3) in the rule's scope over the charge's days;
      even          the same consumers, equal weights;
      fixed         the teams and percentages in shared_cost_fixed_shares, whatever happened that day.
    Scope is the provider and billing account (basis_scope = billing_account), or that and the row's own
    sub account (basis_scope = sub_account). A charge's days are its own day for daily rows and its whole
    period for monthly fees and taxes.

    Consumers are teams whose owned cost in the scope over those days is positive. A team whose credits
    outweigh its usage there did not consume the shared service in any measurable way, and a negative
    weight would hand it a negative share of a positive cost; it is left out. With no consumer at all the
    row stays whole as `unallocated`, naming the rule that found nobody.

    Shares are truncated to 12 decimals and each consumer's amount is cost x share rounded to 12 decimals;
    what that leaves over (a few 1e-12 at most) goes to the consumer with the largest weight, ties to the
    first team in alphabetical order, so every row's parts add up to the row exactly. -#}

with

resolved as (

    select * from {{ ref('int_allocation__owners_resolved') }}

),

shared_cost_rules as (

    select * from {{ ref('shared_cost_rules') }}

),

fixed_shares as (

    select * from {{ ref('shared_cost_fixed_shares') }}

),

shared_rows as (

    select
        x_RowKey,
        x_SourceProvider,
        BillingAccountId,
        SubAccountId,
        ServiceName,
        ChargeCategory,
        charge_date,
        charge_end_date,
        BilledCost,
        EffectiveCost
    from resolved
    where owner_team is null

),

rule_candidates as (

    select
        shared_rows.x_RowKey,
        shared_cost_rules.rule_id,
        shared_cost_rules.method,
        shared_cost_rules.basis_scope,
        row_number() over (
            partition by shared_rows.x_RowKey
            order by shared_cost_rules.priority, shared_cost_rules.rule_id
        ) as match_rank
    from shared_rows
    inner join shared_cost_rules
        on
            (shared_cost_rules.provider is null or shared_rows.x_SourceProvider = shared_cost_rules.provider)
            and (
                shared_cost_rules.billing_account_id is null
                or shared_rows.BillingAccountId = shared_cost_rules.billing_account_id
            )
            and (
                shared_cost_rules.sub_account_id is null
                or shared_rows.SubAccountId = shared_cost_rules.sub_account_id
            )
            and (shared_cost_rules.service_name is null or shared_rows.ServiceName = shared_cost_rules.service_name)
            and (
                shared_cost_rules.charge_category is null
                or shared_rows.ChargeCategory = shared_cost_rules.charge_category
            )

),

matched as (

    select
        shared_rows.*,
        rule_candidates.rule_id,
        rule_candidates.method,
        case when rule_candidates.basis_scope = 'sub_account' then shared_rows.SubAccountId end as scope_sub_account_id
    from shared_rows
    left join rule_candidates
        on shared_rows.x_RowKey = rule_candidates.x_RowKey and rule_candidates.match_rank = 1

),

owned_daily as (

    select
        x_SourceProvider,
        BillingAccountId,
        SubAccountId,
        charge_date,
        owner_team as team,
        sum(EffectiveCost) as owned_effective_cost
    from resolved
    where owner_team is not null
    group by x_SourceProvider, BillingAccountId, SubAccountId, charge_date, owner_team

),

-- Rows with the same rule, scope and days split with the same shares: compute them once per window.
basis_windows as (

    select distinct
        rule_id,
        method,
        x_SourceProvider,
        BillingAccountId,
        scope_sub_account_id,
        charge_date,
        charge_end_date
    from matched
    where method in ('proportional', 'even')

),

window_basis as (

    select
        basis_windows.rule_id,
        basis_windows.method,
        basis_windows.x_SourceProvider,
        basis_windows.BillingAccountId,
        basis_windows.scope_sub_account_id,
        basis_windows.charge_date,
        basis_windows.charge_end_date,
        owned_daily.team,
        sum(owned_daily.owned_effective_cost) as basis
    from basis_windows
    inner join owned_daily
        on
            basis_windows.x_SourceProvider = owned_daily.x_SourceProvider
            and basis_windows.BillingAccountId = owned_daily.BillingAccountId
            and coalesce(basis_windows.scope_sub_account_id, owned_daily.SubAccountId) = owned_daily.SubAccountId
            and basis_windows.charge_date <= owned_daily.charge_date
            and basis_windows.charge_end_date > owned_daily.charge_date
    group by
        basis_windows.rule_id,
        basis_windows.method,
        basis_windows.x_SourceProvider,
        basis_windows.BillingAccountId,
        basis_windows.scope_sub_account_id,
        basis_windows.charge_date,
        basis_windows.charge_end_date,
        owned_daily.team

),

window_consumers as (

    select
        *,
        case when method = 'even' then {{ to_money(1) }} else basis end as weight
    from window_basis
    where basis > 0

),

window_weights as (

    select
        *,
        sum(weight) over (
            partition by rule_id, x_SourceProvider, BillingAccountId, scope_sub_account_id, charge_date, charge_end_date
        ) as total_weight,
        sum(basis) over (
            partition by rule_id, x_SourceProvider, BillingAccountId, scope_sub_account_id, charge_date, charge_end_date
        ) as basis_total,
        row_number() over (
            partition by rule_id, x_SourceProvider, BillingAccountId, scope_sub_account_id, charge_date, charge_end_date
            order by weight desc, team asc
        ) as weight_rank
    from window_consumers

),

fixed_weights as (

    select
        rule_id,
        team,
        percentage as weight,
        sum(percentage) over (partition by rule_id) as total_weight,
        row_number() over (partition by rule_id order by percentage desc, team asc) as weight_rank
    from fixed_shares
    where percentage > 0

),

consumer_parts as (

    select
        matched.x_RowKey,
        matched.rule_id,
        matched.method,
        window_weights.team,
        window_weights.basis,
        window_weights.basis_total,
        {{ divide_decimal('window_weights.weight', 'window_weights.total_weight') }} as share,
        window_weights.weight_rank = 1 as takes_remainder,
        matched.BilledCost,
        matched.EffectiveCost
    from matched
    inner join window_weights
        on
            matched.rule_id = window_weights.rule_id
            and matched.x_SourceProvider = window_weights.x_SourceProvider
            and matched.BillingAccountId = window_weights.BillingAccountId
            and coalesce(matched.scope_sub_account_id, '') = coalesce(window_weights.scope_sub_account_id, '')
            and matched.charge_date = window_weights.charge_date
            and matched.charge_end_date = window_weights.charge_end_date

    union all

    select
        matched.x_RowKey,
        matched.rule_id,
        matched.method,
        fixed_weights.team,
        cast(null as {{ money_type() }}) as basis,
        cast(null as {{ money_type() }}) as basis_total,
        {{ divide_decimal('fixed_weights.weight', 'fixed_weights.total_weight') }} as share,
        fixed_weights.weight_rank = 1 as takes_remainder,
        matched.BilledCost,
        matched.EffectiveCost
    from matched
    inner join fixed_weights on matched.rule_id = fixed_weights.rule_id
    where matched.method = 'fixed'

),

consumer_amounts as (

    select
        *,
        {{ multiply_decimals(['BilledCost', 'share']) }} as billed_part,
        {{ multiply_decimals(['EffectiveCost', 'share']) }} as effective_part
    from consumer_parts

),

split as (

    select
        x_RowKey,
        team,
        rule_id as allocation_rule_id,
        'shared_' || method as allocation_method,
        share,
        basis,
        basis_total,
        billed_part + case
            when takes_remainder then BilledCost - sum(billed_part) over (partition by x_RowKey) else 0
        end as allocated_billed_cost,
        effective_part + case
            when takes_remainder then EffectiveCost - sum(effective_part) over (partition by x_RowKey) else 0
        end as allocated_effective_cost
    from consumer_amounts

),

split_rows as (

    select distinct x_RowKey
    from consumer_parts

),

unallocated as (

    select
        matched.x_RowKey,
        'unallocated' as team,
        coalesce(matched.rule_id, 'no_matching_rule') as allocation_rule_id,
        'unallocated' as allocation_method,
        {{ to_money(1) }} as share,
        cast(null as {{ money_type() }}) as basis,
        cast(null as {{ money_type() }}) as basis_total,
        matched.BilledCost as allocated_billed_cost,
        matched.EffectiveCost as allocated_effective_cost
    from matched
    left join split_rows on matched.x_RowKey = split_rows.x_RowKey
    where split_rows.x_RowKey is null

),

final as (

    select * from split
    union all
    select * from unallocated

)

select * from final
