{#- Whole days from `start_date` to `end_date` (end minus start), for dates. -#}
{% macro days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_between', 'finops_warehouse')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__days_between(start_date, end_date) -%}
    date_diff('day', cast({{ start_date }} as date), cast({{ end_date }} as date))
{%- endmacro %}

{% macro snowflake__days_between(start_date, end_date) -%}
    datediff(day, cast({{ start_date }} as date), cast({{ end_date }} as date))
{%- endmacro %}

{#- The date `days` days after `date_expression`, as a date on both engines (DuckDB's date + interval is a
    timestamp). -#}
{% macro date_add_days(date_expression, days) -%}
    cast({{ add_days(date_expression, days) }} as date)
{%- endmacro %}

{#- The date `months` months after `date_expression`, as a date. -#}
{% macro date_add_months(date_expression, months) -%}
    cast({{ add_months(date_expression, months) }} as date)
{%- endmacro %}
