{#- Raw tables follow the files, and exports differ in which optional columns they carry (a CUR without
    resource IDs, an EA file without benefitId). Staging reads a column when it exists and null
    otherwise, so a missing optional column never breaks a build. -#}

{% macro raw_column_names(relation) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set existing = adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
    {%- if existing is none -%}
        {{ return([]) }}
    {%- endif -%}
    {{ return(adapter.get_columns_in_relation(existing) | map(attribute='name') | map('lower') | list) }}
{%- endmacro %}

{#- The first of `names` that the raw table has, as text; null when it has none of them. -#}
{% macro raw_column(available, names) -%}
    {%- set names = [names] if names is string else names -%}
    {%- set present = [] -%}
    {%- for name in names if name in available -%}
        {%- do present.append(raw_column_identifier(name)) -%}
    {%- endfor -%}
    {%- if present | length == 0 -%}
        cast(null as varchar)
    {%- elif present | length == 1 -%}
        cast({{ present[0] }} as varchar)
    {%- else -%}
        coalesce({% for column in present %}cast({{ column }} as varchar){% if not loop.last %}, {% endif %}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{#- A raw column by its lower-case name. dlt creates Snowflake columns upper-case (Snowflake's case for
    unquoted names), so the name is quoted in that case there; quoting keeps names that are keywords
    (`date`, `start`) usable. -#}
{% macro raw_column_identifier(name) -%}
    {{ return(adapter.dispatch('raw_column_identifier', 'finops_warehouse')(name)) }}
{%- endmacro %}

{% macro default__raw_column_identifier(name) -%}
    {{ return(adapter.quote(name)) }}
{%- endmacro %}

{% macro snowflake__raw_column_identifier(name) -%}
    {{ return(adapter.quote(name | upper)) }}
{%- endmacro %}

{#- The raw relation to select from, or an empty one when nothing has been loaded for this source yet,
    so a warehouse with only some providers still builds. -#}
{% macro raw_relation_or_empty(relation, available) -%}
    {%- if available | length > 0 -%}
        {{ relation }}
    {%- else -%}
        (select 1 as no_rows_loaded_yet where 1 = 0)
    {%- endif -%}
{%- endmacro %}

{#- The lineage every loader writes on every raw row, renamed for staging. Billed-cost sources name their
    provider, which adds the billing period the row belongs to (see billing_period_key). -#}
{% macro raw_lineage_columns(available, provider=none) -%}
        {{ raw_column(available, '_billing_partition') }} as billing_partition,
        {%- if provider is not none %}
        {{ billing_period_key(available, provider) }} as billing_period_key,
        {%- endif %}
        {{ raw_column(available, '_source_file') }} as source_file,
        {{ raw_column(available, '_delivery_id') }} as delivery_id,
        cast({{ raw_column(available, '_line_number') }} as bigint) as source_line_number,
        {{ loaded_at_utc(available) }} as loaded_at
{%- endmacro %}
