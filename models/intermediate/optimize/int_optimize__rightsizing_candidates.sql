{#- Idle and oversized compute from daily utilisation over the last rightsizing_lookback_days days (with at
    least rightsizing_min_days days of CPU data), priced from the resource's effective cost in that window:
      idle_no_utilisation  CPU never above idle_cpu_max_percent: stop or terminate it, saving its run rate;
      rightsize_low_cpu    average CPU below rightsizing_cpu_threshold and peak CPU (and memory, where
                           published) below rightsizing_peak_cpu_percent: one size down, saving
                           rightsizing_saving_share of its run rate.
    The instance type comes from the compute meter (AWS `BoxUsage:m6i.xlarge`); a type that is not
    family.size gets the action without the target type. -#}

{%- set lookback = var('rightsizing_lookback_days') -%}

with

utilisation as (

    select * from {{ ref('int_optimize__utilisation_daily') }}

),

usage_daily as (

    select * from {{ ref('int_optimize__resource_usage_daily') }}

),

owners as (

    select * from {{ ref('int_optimize__resource_owners') }}

),

size_steps as (

    select * from {{ ref('instance_size_steps') }}

),

bounds as (

    select
        as_of_date,
        {{ date_add_days('as_of_date', 1 - lookback) }} as window_start
    from (select {{ optimize_as_of_date() }} as as_of_date) as as_of

),

measured as (

    select
        utilisation.provider_name,
        utilisation.resource_id,
        min(utilisation.metric_date) as first_metric_date,
        count(distinct case when utilisation.metric = 'cpu_utilization' then utilisation.metric_date end)
            as cpu_days,
        sum(case when utilisation.metric = 'cpu_utilization' then utilisation.average_percent end)
            as cpu_average_sum,
        max(case when utilisation.metric = 'cpu_utilization' then utilisation.maximum_percent end) as cpu_peak,
        max(case when utilisation.metric = 'memory_utilization' then utilisation.maximum_percent end)
            as memory_peak
    from utilisation
    cross join bounds
    where utilisation.metric_date between bounds.window_start and bounds.as_of_date
    group by utilisation.provider_name, utilisation.resource_id

),

costs as (

    select
        usage_daily.ProviderName,
        usage_daily.ResourceId,
        max(usage_daily.x_SourceProvider) as x_SourceProvider,
        max(usage_daily.BillingAccountId) as BillingAccountId,
        max(usage_daily.SubAccountId) as SubAccountId,
        max(usage_daily.RegionId) as RegionId,
        max(usage_daily.compute_sku_meter) as compute_sku_meter,
        sum(usage_daily.effective_cost) as window_effective_cost,
        count(distinct usage_daily.charge_date) as cost_days
    from usage_daily
    cross join bounds
    where usage_daily.charge_date between bounds.window_start and bounds.as_of_date
    group by usage_daily.ProviderName, usage_daily.ResourceId

),

joined as (

    select
        costs.*,
        measured.first_metric_date,
        measured.cpu_days,
        measured.cpu_peak,
        measured.memory_peak,
        bounds.window_start,
        bounds.as_of_date,
        {{ divide_decimal('measured.cpu_average_sum', 'measured.cpu_days') }} as cpu_average,
        {{ divide_decimal('costs.window_effective_cost', 'costs.cost_days') }} as daily_run_rate,
        split_part(costs.compute_sku_meter, ':', 2) as instance_type
    from measured
    inner join costs
        on measured.provider_name = costs.ProviderName and measured.resource_id = costs.ResourceId
    cross join bounds
    where measured.cpu_days >= {{ var('rightsizing_min_days') }} and costs.window_effective_cost > 0

),

typed as (

    select
        joined.*,
        case
            when size_steps.one_size_down is not null
                then split_part(joined.instance_type, '.', 1) || '.' || size_steps.one_size_down
        end as smaller_instance_type
    from joined
    left join size_steps
        on
            split_part(joined.instance_type, '.', 2) = size_steps.size
            and split_part(joined.instance_type, '.', 3) = ''

),

classified as (

    select
        *,
        case
            when cpu_peak < {{ var('idle_cpu_max_percent') }} then 'idle_no_utilisation'
            when
                cpu_average < {{ var('rightsizing_cpu_threshold') }}
                and cpu_peak < {{ var('rightsizing_peak_cpu_percent') }}
                and coalesce(memory_peak, 0) < {{ var('rightsizing_peak_cpu_percent') }}
                then 'rightsize_low_cpu'
        end as rule
    from typed

),

final as (

    select
        case when classified.rule = 'idle_no_utilisation' then 'idle' else 'rightsizing' end
            as recommendation_type,
        classified.rule,
        classified.x_SourceProvider,
        classified.ProviderName,
        classified.BillingAccountId,
        classified.SubAccountId,
        classified.ResourceId as resource_id,
        classified.RegionId as region_id,
        owners.owner_team,
        case
            when classified.rule = 'idle_no_utilisation'
                then
                    'stop or terminate: CPU never above {{ var("idle_cpu_max_percent") }}% in '
                    || cast(classified.cpu_days as varchar) || ' days'
            when classified.smaller_instance_type is not null
                then 'downsize ' || classified.instance_type || ' to ' || classified.smaller_instance_type
            else 'downsize one size'
        end as action,
        classified.daily_run_rate,
        case
            when classified.rule = 'idle_no_utilisation'
                then cast(classified.daily_run_rate * {{ var('recommendation_days_per_month') }} as {{ money_type() }})
            else {{ multiply_decimals([
                'classified.daily_run_rate',
                var('recommendation_days_per_month') | string,
                var('rightsizing_saving_share') | string,
            ]) }}
        end as estimated_monthly_saving,
        case
            when classified.cpu_days >= {{ lookback }} and (
                classified.rule = 'idle_no_utilisation' or classified.memory_peak is not null
            ) then 'high'
            else 'medium'
        end as confidence,
        {{ json_object_text([
            ('window_start', 'classified.window_start'),
            ('window_end', 'classified.as_of_date'),
            ('cpu_days', 'classified.cpu_days'),
            ('cpu_average_percent', 'classified.cpu_average'),
            ('cpu_peak_percent', 'classified.cpu_peak'),
            ('memory_peak_percent', 'classified.memory_peak'),
            ('instance_type', 'classified.instance_type'),
            ('suggested_instance_type', 'classified.smaller_instance_type'),
            ('daily_effective_cost', 'classified.daily_run_rate'),
        ]) }} as evidence,
        classified.first_metric_date as first_seen_date,
        classified.as_of_date,
        cast(null as {{ money_type() }}) as current_coverage,
        cast(null as {{ money_type() }}) as current_utilization
    from classified
    left join owners
        on classified.x_SourceProvider = owners.x_SourceProvider and classified.ResourceId = owners.ResourceId
    where classified.rule is not null

)

select * from final
