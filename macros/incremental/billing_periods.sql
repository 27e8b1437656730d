{#- Incremental builds work per billing period: the rows of one provider invoice (provider, the provider's
    own billing account, billing period). A newer delivery replaces a whole raw billing partition, so the
    models rebuild every period whose partitions were loaded again and leave all other periods alone. -#}

{#- The period a raw row belongs to, from its billing partition: `account|period`, for Azure
    `dataset|account|period|export scope`. Azure delivers one invoice as several partitions (actual and
    amortized datasets, maybe exports of several scopes) whose rows are paired with each other, so the key
    keeps only the account and the period and all of them land in the same period. -#}
{% macro billing_period_key(available, provider) -%}
    {%- set partition = raw_column(available, '_billing_partition') -%}
    {%- set first = 2 if '_dataset' in available else 1 -%}
    '{{ provider }}|' || split_part({{ partition }}, '|', {{ first }})
    || '|' || split_part({{ partition }}, '|', {{ first + 1 }})
{%- endmacro %}


{#- The billing periods an incremental model must rebuild: every period in the `loaded` staging relations
    whose latest load time differs from the latest one the built model holds for it, and every period it
    does not hold yet. Comparing per period, rather than against one high-water mark, also catches a load
    that started before the last build but committed after it. Returns the keys, sorted. -#}
{% macro billing_periods_to_rebuild(loaded, built, key_column, loaded_at_column) -%}
    {%- do assert_built_columns(built, [key_column, loaded_at_column]) -%}
    {%- set query -%}
        with

        loaded as (
            {%- for relation in loaded %}
            select
                billing_period_key,
                max(loaded_at) as loaded_at
            from {{ relation }}
            group by billing_period_key
            {% if not loop.last %}union all{% endif %}
            {%- endfor %}
        ),

        built as (
            select
                {{ key_column }} as billing_period_key,
                max({{ loaded_at_column }}) as loaded_at
            from {{ built }}
            group by {{ key_column }}
        )

        select loaded.billing_period_key
        from loaded
        left join built on loaded.billing_period_key = built.billing_period_key
        where built.billing_period_key is null or built.loaded_at is distinct from loaded.loaded_at
        order by loaded.billing_period_key
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}


{#- An incremental model built by an older version of the project may lack columns the rebuild logic
    reads; say how to recover instead of failing on a missing column. -#}
{% macro assert_built_columns(built, required) -%}
    {%- set present = adapter.get_columns_in_relation(built) | map(attribute='name') | map('lower') | list -%}
    {%- set missing = [] -%}
    {%- for column in required if column | lower not in present -%}
        {%- do missing.append(column) -%}
    {%- endfor -%}
    {%- if missing -%}
        {{ exceptions.raise_compiler_error(
            built ~ " was built by an older version of this project (no " ~ missing | join(', ')
            ~ "); rebuild it once with `finops build --full-refresh` (or `dbt build --full-refresh`)"
        ) }}
    {%- endif -%}
{%- endmacro %}


{#- A predicate keeping the rows of the given billing periods. Keys are rendered as literals rather than a
    subquery so the engine can push the filter through views down to the raw table scans. -#}
{% macro in_billing_periods(column, periods) -%}
    {%- if periods | length == 0 -%}
    {#- nothing to rebuild; `in ()` is not SQL -#}
    1 = 0
    {%- else -%}
    {{ column }} in (
        {%- for period in periods -%}
        '{{ period | replace("'", "''") }}'{{ ', ' if not loop.last }}
        {%- endfor -%}
    )
    {%- endif -%}
{%- endmacro %}
