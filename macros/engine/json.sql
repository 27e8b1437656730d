{#- JSON held as text: raw tables keep nested provider values (CUR 2.0 maps, Azure tags, GCP labels and
    credits) as JSON text, and these macros read them on either engine. -#}

{% macro json_text(json_expression, key) -%}
    {{ return(adapter.dispatch('json_text', 'finops_warehouse')(json_expression, key)) }}
{%- endmacro %}

{% macro default__json_text(json_expression, key) -%}
    json_extract_string({{ json_expression }}, '$."{{ key }}"')
{%- endmacro %}

{% macro snowflake__json_text(json_expression, key) -%}
    {%- if is_fakesnow() %}{{ return(fakesnow__json_text(json_expression, key)) }}{% endif -%}
    get(try_parse_json({{ json_expression }}), '{{ key }}')::varchar
{%- endmacro %}


{#- One row per entry of a JSON object (or of a [{key, value}] array, as GCP labels are), for every
    distinct value of `json_column` in `relation`: columns json_source, entry_key, entry_value. -#}
{% macro json_entries(relation, json_column, shape='object') -%}
    {{ return(adapter.dispatch('json_entries', 'finops_warehouse')(relation, json_column, shape)) }}
{%- endmacro %}

{% macro default__json_entries(relation, json_column, shape) -%}
    {%- if shape == 'key_value_array' -%}
    select
        json_source,
        entry.key as entry_key,
        entry.value as entry_value
    from (
        select
            {{ json_column }} as json_source,
            unnest(from_json({{ json_column }}, '[{"key": "VARCHAR", "value": "VARCHAR"}]')) as entry
        from {{ relation }}
    )
    {%- else -%}
    select
        json_source,
        entry.key as entry_key,
        entry.value as entry_value
    from (
        select
            {{ json_column }} as json_source,
            unnest(map_entries(from_json({{ json_column }}, '"MAP(VARCHAR, VARCHAR)"'))) as entry
        from {{ relation }}
    )
    {%- endif -%}
{%- endmacro %}

{% macro snowflake__json_entries(relation, json_column, shape) -%}
    select
        src.{{ json_column }} as json_source,
        {%- if shape == 'key_value_array' %}
        entry.value:key::varchar as entry_key,
        entry.value:value::varchar as entry_value
        {%- else %}
        entry.key::varchar as entry_key,
        entry.value::varchar as entry_value
        {%- endif %}
    from {{ relation }} as src,
        lateral flatten(input => try_parse_json(src.{{ json_column }})) as entry
{%- endmacro %}


{#- Aggregate key/value rows back into a JSON object (text), keys in a stable order. -#}
{% macro json_object_agg(key_expression, value_expression) -%}
    {{ return(adapter.dispatch('json_object_agg', 'finops_warehouse')(key_expression, value_expression)) }}
{%- endmacro %}

{% macro default__json_object_agg(key_expression, value_expression) -%}
    cast(to_json(map_from_entries(
        list(struct_pack(k := {{ key_expression }}, v := {{ value_expression }}) order by {{ key_expression }})
    )) as varchar)
{%- endmacro %}

{% macro snowflake__json_object_agg(key_expression, value_expression) -%}
    to_json(object_agg({{ key_expression }}, to_variant({{ value_expression }})))
{%- endmacro %}


{#- Unnest a JSON array of objects held as text: one row per element, as JSON text. -#}
{% macro json_array_elements(relation, json_column, keep_columns) -%}
    {{ return(adapter.dispatch('json_array_elements', 'finops_warehouse')(relation, json_column, keep_columns)) }}
{%- endmacro %}

{#- Unnested in the select list rather than through a lateral join: DuckDB then pushes a filter on a kept
    column (a billing period) down to the scan of `relation` instead of unnesting every row first. -#}
{% macro default__json_array_elements(relation, json_column, keep_columns) -%}
    select
        {% for column in keep_columns %}{{ column }}, {% endfor %}
        generate_subscripts(json_extract({{ json_column }}, '$[*]'), 1) as element_index,
        cast(unnest(json_extract({{ json_column }}, '$[*]')) as varchar) as element_json
    from {{ relation }}
    where {{ json_column }} is not null and {{ json_column }} <> '[]'
{%- endmacro %}

{% macro snowflake__json_array_elements(relation, json_column, keep_columns) -%}
    select
        {% for column in keep_columns %}src.{{ column }}, {% endfor %}
        element.index + 1 as element_index,
        to_json(element.value) as element_json
    from {{ relation }} as src,
        lateral flatten(input => try_parse_json(src.{{ json_column }})) as element
    where src.{{ json_column }} is not null and src.{{ json_column }} <> '[]'
{%- endmacro %}
