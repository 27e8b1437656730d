{#- Tags repeat: a few thousand distinct tag sets cover millions of cost rows. Normalising each distinct
    set once, then joining back on the original text, keeps this cheap at any scale. -#}

with

distinct_tag_sets as (

    -- The same text normalises the same way whichever provider wrote it, so sets are keyed by text alone.
    select
        'object' as shape,
        resource_tags as source_tags
    from {{ ref('stg_aws_cur__line_items') }}
    where resource_tags is not null

    union

    select
        'object' as shape,
        tags as source_tags
    from {{ ref('stg_azure_cost__cost_details') }}
    where tags is not null

    union

    select
        'key_value_array' as shape,
        labels as source_tags
    from {{ ref('stg_gcp_billing__billing_export') }}
    where labels is not null

),

object_entries as (

    {{ json_entries("(select source_tags from distinct_tag_sets where shape = 'object')", 'source_tags') }}

),

array_entries as (

    {{ json_entries(
        "(select source_tags from distinct_tag_sets where shape = 'key_value_array')",
        'source_tags',
        'key_value_array',
    ) }}

),

entries as (

    select
        json_source,
        entry_key,
        entry_value
    from object_entries
    union all
    select
        json_source,
        entry_key,
        entry_value
    from array_entries

),

keys_cleaned as (

    select
        json_source,
        entry_key as original_key,
        entry_value as original_value,
        trim(entry_value) as tag_value,
        -- `user:` is the AWS prefix for user-defined tags (CUR 2.0 writes `user_`); the key the team
        -- typed is what follows it. Case, spaces and dashes are drift, not meaning.
        replace(replace(lower(trim(
            case
                when lower(entry_key) like 'user:%' then substr(entry_key, 6)
                -- no LIKE ... ESCAPE: a backslash is a string escape in Snowflake literals, not in DuckDB's
                when lower(left(entry_key, 5)) = 'user_' then substr(entry_key, 6)
                else entry_key
            end
        )), ' ', '_'), '-', '_') as cleaned_key
    from entries
    where entry_key is not null and trim(entry_key) <> ''

),

aliased as (

    select
        keys_cleaned.json_source,
        keys_cleaned.original_key,
        keys_cleaned.original_value,
        keys_cleaned.tag_value,
        coalesce(aliases.canonical_key, keys_cleaned.cleaned_key) as tag_key
    from keys_cleaned
    left join {{ ref('tag_key_aliases') }} as aliases
        on keys_cleaned.cleaned_key = aliases.alias_key

),

deduplicated as (

    -- When drift leaves two spellings of one key on a resource (`team` and `Team`), the first original
    -- key in sort order wins, so the choice is stable across runs and engines.
    select
        json_source,
        tag_key,
        tag_value
    from (
        select
            *,
            row_number() over (partition by json_source, tag_key order by original_key) as key_rank
        from aliased
    ) as ranked
    where key_rank = 1

),

original_as_object as (

    select
        json_source,
        {{ json_object_agg('original_key', 'original_value') }} as tags_original
    from aliased
    group by json_source

),

normalised as (

    select
        json_source,
        {{ json_object_agg('tag_key', 'tag_value') }} as tags_normalised
    from deduplicated
    group by json_source

),

final as (

    select
        distinct_tag_sets.source_tags,
        original_as_object.tags_original,
        normalised.tags_normalised
    from distinct_tag_sets
    left join original_as_object on distinct_tag_sets.source_tags = original_as_object.json_source
    left join normalised on distinct_tag_sets.source_tags = normalised.json_source

)

select * from final
