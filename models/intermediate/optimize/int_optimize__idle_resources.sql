{#- Idle and orphaned resources over the last idle_lookback_days days of usage, still billing on the last day:
      idle_unattached_address  the export bills an idle meter (an address nobody attached);
      idle_storage_only        storage but no compute in the window, after compute before it (a stopped
                               instance or database whose disks still bill; also how a volume left behind
                               by a deleted instance shows, since exports do not say what is attached).
    The saving is the whole run rate of what would stop billing: the idle meter, or the storage. -#}

{%- set lookback = var('idle_lookback_days') -%}

with

usage_daily as (

    select * from {{ ref('int_optimize__resource_usage_daily') }}

),

owners as (

    select * from {{ ref('int_optimize__resource_owners') }}

),

bounds as (

    select
        as_of_date,
        {{ date_add_days('as_of_date', 1 - lookback) }} as window_start
    from (select {{ optimize_as_of_date() }} as as_of_date) as as_of

),

per_resource as (

    select
        usage_daily.x_SourceProvider,
        usage_daily.ResourceId,
        bounds.as_of_date,
        bounds.window_start,
        max(usage_daily.ProviderName) as ProviderName,
        max(usage_daily.BillingAccountId) as BillingAccountId,
        max(usage_daily.SubAccountId) as SubAccountId,
        max(usage_daily.RegionId) as RegionId,
        max(usage_daily.idle_resource_kind) as idle_resource_kind,
        max(usage_daily.idle_action) as idle_action,
        max(usage_daily.idle_sku_meter_pattern) as idle_sku_meter_pattern,
        max(usage_daily.charge_date) as last_charge_date,
        max(case when usage_daily.compute_cost <> 0 then usage_daily.charge_date end) as last_compute_date,
        min(case when usage_daily.idle_meter_cost <> 0 then usage_daily.charge_date end) as first_idle_meter_date,
        sum(
            case when usage_daily.charge_date < bounds.window_start then usage_daily.compute_cost else 0 end
        ) as compute_cost_before_window,
        sum(
            case when usage_daily.charge_date >= bounds.window_start then usage_daily.compute_cost else 0 end
        ) as window_compute_cost,
        sum(
            case when usage_daily.charge_date >= bounds.window_start then usage_daily.storage_cost else 0 end
        ) as window_storage_cost,
        sum(
            case when usage_daily.charge_date >= bounds.window_start then usage_daily.idle_meter_cost else 0 end
        ) as window_idle_meter_cost,
        count(
            distinct case
                when usage_daily.charge_date >= bounds.window_start and usage_daily.storage_cost <> 0
                    then usage_daily.charge_date
            end
        ) as storage_days,
        count(
            distinct case
                when usage_daily.charge_date >= bounds.window_start and usage_daily.idle_meter_cost <> 0
                    then usage_daily.charge_date
            end
        ) as idle_meter_days
    from usage_daily
    cross join bounds
    group by usage_daily.x_SourceProvider, usage_daily.ResourceId, bounds.as_of_date, bounds.window_start

),

still_billing as (

    select * from per_resource
    where last_charge_date = as_of_date

),

unattached as (

    select
        *,
        'idle_unattached_address' as rule,
        {{ divide_decimal('window_idle_meter_cost', 'idle_meter_days') }} as daily_run_rate,
        idle_action as action,
        'high' as confidence,
        first_idle_meter_date as first_seen_date,
        {{ json_object_text([
            ('resource_kind', 'idle_resource_kind'),
            ('sku_meter_pattern', 'idle_sku_meter_pattern'),
            ('window_start', 'window_start'),
            ('window_end', 'as_of_date'),
            ('days_billed_idle', 'idle_meter_days'),
            ('idle_cost_in_window', 'window_idle_meter_cost'),
        ]) }} as evidence
    from still_billing
    where idle_meter_days > 0

),

storage_only as (

    select
        *,
        'idle_storage_only' as rule,
        {{ divide_decimal('window_storage_cost', 'storage_days') }} as daily_run_rate,
        'snapshot what is needed, then delete: no compute since ' || cast(last_compute_date as varchar) as action,
        'medium' as confidence,
        {{ date_add_days('last_compute_date', 1) }} as first_seen_date,
        {{ json_object_text([
            ('window_start', 'window_start'),
            ('window_end', 'as_of_date'),
            ('last_compute_date', 'last_compute_date'),
            ('compute_cost_before_window', 'compute_cost_before_window'),
            ('compute_cost_in_window', 'window_compute_cost'),
            ('storage_cost_in_window', 'window_storage_cost'),
            ('storage_days', 'storage_days'),
        ]) }} as evidence
    from still_billing
    where
        window_compute_cost = 0
        and window_storage_cost > 0
        and compute_cost_before_window > 0
        and idle_meter_days = 0

),

rules as (

    select * from unattached
    union all
    select * from storage_only

),

final as (

    select
        'idle' as recommendation_type,
        rules.rule,
        rules.x_SourceProvider,
        rules.ProviderName,
        rules.BillingAccountId,
        rules.SubAccountId,
        rules.ResourceId as resource_id,
        rules.RegionId as region_id,
        owners.owner_team,
        rules.action,
        rules.daily_run_rate,
        cast(rules.daily_run_rate * {{ var('recommendation_days_per_month') }} as {{ money_type() }})
            as estimated_monthly_saving,
        rules.confidence,
        rules.evidence,
        rules.first_seen_date,
        rules.as_of_date,
        cast(null as {{ money_type() }}) as current_coverage,
        cast(null as {{ money_type() }}) as current_utilization
    from rules
    left join owners
        on rules.x_SourceProvider = owners.x_SourceProvider and rules.ResourceId = owners.ResourceId

)

select * from final
