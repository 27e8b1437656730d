{#- The first capture group of `pattern` in `expression`, or null when it does not match. -#}
{% macro regexp_group(expression, pattern) -%}
    {{ return(adapter.dispatch('regexp_group', 'finops_warehouse')(expression, pattern)) }}
{%- endmacro %}

{% macro default__regexp_group(expression, pattern) -%}
    nullif(regexp_extract({{ expression }}, '{{ pattern }}', 1), '')
{%- endmacro %}

{% macro snowflake__regexp_group(expression, pattern) -%}
    nullif(regexp_substr({{ expression }}, '{{ pattern }}', 1, 1, 'e', 1), '')
{%- endmacro %}

{#- The last `/`- or `:`-separated part of an identifier: the name in an ARN or an Azure resource id
    (arn:aws:ec2:us-east-1:111:instance/i-0abc -> i-0abc). Null stays null. -#}
{% macro last_path_segment(expression) -%}
    {{ regexp_group(expression, '([^/:]+)/?$') }}
{%- endmacro %}
