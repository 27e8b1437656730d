{#- Commitment purchases sized from the on-demand usage they would cover (seeds/optimize/commitment_offers.csv
    says which services each commitment type covers, its scope and its discount).

    Per offer and billing account (scope billing_account) or per offer, billing account, SKU meter and
    region (scope sku), the eligible on-demand effective cost is summed per bucket (day or hour, var
    commitment_baseline_grain) over the last commitment_lookback_days days, buckets without any counted as
    zero. The commitment is the commitment_baseline_percentile percentile of those buckets (percentile_disc,
    an amount that really occurred, so exact), in on-demand terms. Against that lookback it would have:
      covered    the part of each bucket up to the commitment (the rest stays on demand);
      cost       commitment x (1 - discount) in every bucket, used or not;
      saving     covered - cost per bucket, per month; only positive savings are recommended;
      utilisation covered / commitment; break-even at 1 - discount, and the risk grows as it nears that.
    Current coverage is the share of the same eligible usage a commitment already covers (contracted cost),
    and current utilisation that of the provider's commitments of the same type in the billing account in
    the latest month of commitment_utilization. -#}

{%- set lookback = var('commitment_lookback_days') -%}
{%- set grain = var('commitment_baseline_grain') -%}
{%- set hours_per_bucket = 1 if grain == 'hour' else 24 -%}

with

focus_costs as (

    select * from {{ ref('focus_costs') }}

),

offers as (

    select * from {{ ref('commitment_offers') }}

),

allocated_costs as (

    select * from {{ ref('allocated_costs') }}

),

commitment_utilization as (

    select * from {{ ref('commitment_utilization') }}

),

time_spine as (

    select * from {{ ref('time_spine_daily') }}

),

bounds as (

    select
        as_of_date,
        {{ date_add_days('as_of_date', 1 - lookback) }} as window_start
    from (select {{ optimize_as_of_date() }} as as_of_date) as as_of

),

bucket_hours as (

    {% for hour in range(24 if grain == 'hour' else 1) -%}
        select {{ hour }} as bucket_hour
        {%- if not loop.last %} union all {% endif %}
    {% endfor %}

),

buckets as (

    select
        time_spine.date_day as bucket_date,
        bucket_hours.bucket_hour
    from time_spine
    cross join bounds
    cross join bucket_hours
    where time_spine.date_day between bounds.window_start and bounds.as_of_date

),

eligible as (

    select
        offers.offer_id,
        offers.commitment_type,
        offers.scope,
        offers.term_months,
        offers.discount,
        focus_costs.x_SourceProvider,
        focus_costs.ProviderName,
        focus_costs.BillingAccountId,
        focus_costs.x_RowKey,
        focus_costs.PricingCategory,
        focus_costs.ContractedCost,
        focus_costs.x_EffectiveCostInReportingCurrency as effective_cost,
        cast(focus_costs.ChargePeriodStart as date) as bucket_date,
        {% if grain == 'hour' %}extract(hour from focus_costs.ChargePeriodStart){% else %}0{% endif %} as bucket_hour,
        case
            when offers.scope = 'sku' then focus_costs.SkuMeter || ' in ' || focus_costs.RegionId
            else 'all ' || offers.service_name || ' usage'
        end as commitment_key
    from focus_costs
    inner join offers
        on focus_costs.x_SourceProvider = offers.provider and focus_costs.ServiceName = offers.service_name
    cross join bounds
    where
        focus_costs.ChargeCategory = 'Usage'
        and focus_costs.PricingUnit = 'Hours'
        and focus_costs.PricingCategory in ('Standard', 'Committed')
        and cast(focus_costs.ChargePeriodStart as date) between bounds.window_start and bounds.as_of_date

),

on_demand as (

    select * from eligible
    where PricingCategory = 'Standard'

),

candidates as (

    select
        offer_id,
        x_SourceProvider,
        BillingAccountId,
        commitment_key,
        max(ProviderName) as ProviderName,
        max(commitment_type) as commitment_type,
        max(term_months) as term_months,
        max(discount) as discount,
        min(bucket_date) as first_seen_date
    from on_demand
    group by offer_id, x_SourceProvider, BillingAccountId, commitment_key

),

bucket_spend as (

    select
        candidates.offer_id,
        candidates.BillingAccountId,
        candidates.commitment_key,
        buckets.bucket_date,
        buckets.bucket_hour,
        coalesce(sum(on_demand.effective_cost), 0) as spend
    from candidates
    cross join buckets
    left join on_demand
        on
            candidates.offer_id = on_demand.offer_id
            and candidates.BillingAccountId = on_demand.BillingAccountId
            and candidates.commitment_key = on_demand.commitment_key
            and buckets.bucket_date = on_demand.bucket_date
            and buckets.bucket_hour = on_demand.bucket_hour
    group by
        candidates.offer_id, candidates.BillingAccountId, candidates.commitment_key, buckets.bucket_date,
        buckets.bucket_hour

),

baselines as (

    select
        offer_id,
        BillingAccountId,
        commitment_key,
        percentile_disc({{ var('commitment_baseline_percentile') }}) within group (order by spend) as baseline,
        count(*) as bucket_count,
        sum(spend) as on_demand_spend
    from bucket_spend
    group by offer_id, BillingAccountId, commitment_key

),

covered as (

    select
        baselines.offer_id,
        baselines.BillingAccountId,
        baselines.commitment_key,
        sum(case when bucket_spend.spend < baselines.baseline then bucket_spend.spend else baselines.baseline end)
            as covered_spend
    from baselines
    inner join bucket_spend
        on
            baselines.offer_id = bucket_spend.offer_id
            and baselines.BillingAccountId = bucket_spend.BillingAccountId
            and baselines.commitment_key = bucket_spend.commitment_key
    group by baselines.offer_id, baselines.BillingAccountId, baselines.commitment_key

),

current_coverage as (

    select
        offer_id,
        BillingAccountId,
        commitment_key,
        {{ divide_decimal(
            "sum(case when PricingCategory = 'Committed' then ContractedCost else 0 end)",
            'sum(ContractedCost)',
        ) }} as coverage
    from eligible
    group by offer_id, BillingAccountId, commitment_key

),

latest_utilization as (

    select
        x_SourceProvider,
        BillingAccountId,
        CommitmentDiscountType,
        {{ divide_decimal('sum(used_commitment_cost)', 'sum(commitment_cost)') }} as utilization
    from commitment_utilization
    where
        is_commitment_cost_linked
        and charge_month = (select max(latest.charge_month) from commitment_utilization as latest)
    group by x_SourceProvider, BillingAccountId, CommitmentDiscountType

),

owner_costs as (

    select
        on_demand.offer_id,
        on_demand.BillingAccountId,
        on_demand.commitment_key,
        allocated_costs.team,
        sum(allocated_costs.allocated_effective_cost) as allocated_effective_cost
    from on_demand
    inner join allocated_costs on on_demand.x_RowKey = allocated_costs.x_RowKey
    group by on_demand.offer_id, on_demand.BillingAccountId, on_demand.commitment_key, allocated_costs.team

),

owners as (

    select
        offer_id,
        BillingAccountId,
        commitment_key,
        team as owner_team
    from (
        select
            *,
            row_number() over (
                partition by offer_id, BillingAccountId, commitment_key order by allocated_effective_cost desc, team asc
            ) as team_rank
        from owner_costs
    ) as ranked
    where team_rank = 1

),

sized as (

    select
        candidates.*,
        baselines.baseline,
        baselines.bucket_count,
        baselines.on_demand_spend,
        covered.covered_spend,
        current_coverage.coverage,
        latest_utilization.utilization,
        owners.owner_team,
        bounds.window_start,
        bounds.as_of_date,
        cast(1 - candidates.discount as {{ money_type() }}) as break_even_utilization,
        {{ multiply_decimals(['baselines.baseline', '(1 - candidates.discount)']) }} as commitment_cost_per_bucket,
        {{ divide_decimal('covered.covered_spend', 'baselines.bucket_count') }} as covered_per_bucket,
        {{ divide_decimal('covered.covered_spend', 'baselines.baseline * baselines.bucket_count') }}
            as expected_utilization
    from candidates
    inner join baselines
        on
            candidates.offer_id = baselines.offer_id
            and candidates.BillingAccountId = baselines.BillingAccountId
            and candidates.commitment_key = baselines.commitment_key
    inner join covered
        on
            candidates.offer_id = covered.offer_id
            and candidates.BillingAccountId = covered.BillingAccountId
            and candidates.commitment_key = covered.commitment_key
    inner join current_coverage
        on
            candidates.offer_id = current_coverage.offer_id
            and candidates.BillingAccountId = current_coverage.BillingAccountId
            and candidates.commitment_key = current_coverage.commitment_key
    left join latest_utilization
        on
            candidates.x_SourceProvider = latest_utilization.x_SourceProvider
            and candidates.BillingAccountId = latest_utilization.BillingAccountId
            and candidates.commitment_type = latest_utilization.CommitmentDiscountType
    left join owners
        on
            candidates.offer_id = owners.offer_id
            and candidates.BillingAccountId = owners.BillingAccountId
            and candidates.commitment_key = owners.commitment_key
    cross join bounds
    where baselines.baseline > 0

),

priced as (

    select
        *,
        cast(
            (covered_per_bucket - commitment_cost_per_bucket)
            * {{ (24 // hours_per_bucket) * var('recommendation_days_per_month') }} as {{ money_type() }}
        ) as estimated_monthly_saving,
        case
            when expected_utilization >= {{ var('commitment_low_risk_utilization') }} then 'low'
            when expected_utilization >= break_even_utilization + discount / 2 then 'medium'
            else 'high'
        end as utilization_risk
    from sized

),

final as (

    select
        'commitment' as recommendation_type,
        'commitment_' || lower(replace(commitment_type, ' ', '_')) as rule,
        x_SourceProvider,
        ProviderName,
        BillingAccountId,
        cast(null as varchar) as SubAccountId,
        BillingAccountId || '/' || commitment_key as resource_id,
        cast(null as varchar) as region_id,
        owner_team,
        'buy a ' || cast(term_months as varchar) || '-month ' || commitment_type || ' for ' || commitment_key
        || ': ' || cast(cast({{ divide_decimal('baseline', hours_per_bucket) }} as decimal(18, 4)) as varchar)
        || ' {{ var("reporting_currency") }}/hour of on-demand usage' as action,
        covered_per_bucket as daily_run_rate,
        estimated_monthly_saving,
        case utilization_risk when 'low' then 'high' when 'medium' then 'medium' else 'low' end as confidence,
        {{ json_object_text([
            ('offer_id', 'offer_id'),
            ('window_start', 'window_start'),
            ('window_end', 'as_of_date'),
            ('baseline_grain', "'" ~ grain ~ "'"),
            ('baseline_percentile', var('commitment_baseline_percentile') | string),
            ('baseline_per_bucket', 'baseline'),
            ('buckets', 'bucket_count'),
            ('on_demand_spend_in_window', 'on_demand_spend'),
            ('covered_spend_in_window', 'covered_spend'),
            ('discount', 'discount'),
            ('commitment_cost_per_bucket', 'commitment_cost_per_bucket'),
            ('expected_utilization', 'expected_utilization'),
            ('break_even_utilization', 'break_even_utilization'),
            ('break_even_months_if_paid_upfront', multiply_decimals(['term_months', 'break_even_utilization'])),
            ('utilization_risk', 'utilization_risk'),
            ('current_coverage', 'coverage'),
            ('current_utilization', 'utilization'),
        ]) }} as evidence,
        first_seen_date,
        as_of_date,
        coverage as current_coverage,
        utilization as current_utilization
    from priced
    where estimated_monthly_saving > 0

)

select * from final
