{#- A JSON object as text from (key, SQL expression) pairs: the evidence column of marts.recommendations, so a
    reader sees the numbers behind a recommendation in one field whatever engine built it. A null value is
    written as null by DuckDB and left out by Snowflake. -#}
{% macro json_object_text(pairs) -%}
    {{ return(adapter.dispatch('json_object_text', 'finops_warehouse')(pairs)) }}
{%- endmacro %}

{% macro default__json_object_text(pairs) -%}
    cast(json_object(
        {%- for key, expression in pairs %}
        '{{ key }}', {{ expression }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    ) as varchar)
{%- endmacro %}

{% macro snowflake__json_object_text(pairs) -%}
    to_json(object_construct(
        {%- for key, expression in pairs %}
        '{{ key }}', {{ expression }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    ))
{%- endmacro %}

{#- The last day with FOCUS usage: every savings window ends there, so a build over old exports still looks at
    the days that have data rather than at today. -#}
{% macro optimize_as_of_date() -%}
    (
        select max(cast(ChargePeriodStart as date))
        from {{ ref('focus_costs') }}
        where ChargeCategory = 'Usage'
    )
{%- endmacro %}
