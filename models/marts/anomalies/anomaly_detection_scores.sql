{#- How well the detector did against the labels, in one row: recall over the labels inside the scored
    period, precision over every anomaly episode flagged, how many spikes were flagged on their first day
    and how long the slowest leak took. Null ratios when there is nothing to divide by (no labels loaded,
    nothing flagged). -#}

with

label_matches as (

    select * from {{ ref('anomaly_label_matches') }}
    where is_in_scored_period

),

cost_anomalies as (

    select * from {{ ref('cost_anomalies') }}

),

-- Every episode counts for precision: the labels are taken to list every real anomaly of the scored
-- period, as the demo's do. An incident log that misses some would understate precision, never inflate it.
episodes as (

    select distinct anomaly_id
    from cost_anomalies
    where is_anomaly

),

matched_episodes as (

    select distinct anomaly_id
    from {{ ref('int_anomaly__label_flags') }}

),

label_counts as (

    select
        count(*) as labels,
        coalesce(sum(case when is_detected then 1 else 0 end), 0) as labels_detected,
        coalesce(sum(case when kind = 'spike' then 1 else 0 end), 0) as spikes,
        coalesce(sum(case when kind = 'spike' and is_flagged_on_first_day then 1 else 0 end), 0)
            as spikes_flagged_first_day,
        coalesce(sum(case when kind = 'leak' then 1 else 0 end), 0) as leaks,
        max(case when kind = 'leak' then days_to_detect end) as slowest_leak_days_to_detect
    from label_matches

),

episode_counts as (

    select
        count(*) as episodes_flagged,
        coalesce(sum(case when matched_episodes.anomaly_id is not null then 1 else 0 end), 0)
            as episodes_matching_a_label
    from episodes
    left join matched_episodes on episodes.anomaly_id = matched_episodes.anomaly_id

),

final as (

    select
        label_counts.labels,
        label_counts.labels_detected,
        episode_counts.episodes_flagged,
        episode_counts.episodes_matching_a_label,
        case
            when episode_counts.episodes_flagged > 0
                then cast(episode_counts.episodes_matching_a_label as double) / episode_counts.episodes_flagged
        end as precision,
        case
            when label_counts.labels > 0 then cast(label_counts.labels_detected as double) / label_counts.labels
        end as recall,
        label_counts.spikes,
        label_counts.spikes_flagged_first_day,
        label_counts.leaks,
        label_counts.slowest_leak_days_to_detect
    from label_counts
    cross join episode_counts

)

select * from final
