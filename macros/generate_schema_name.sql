{#- Relations land in plain schemas (staging.*, marts.*) rather than dbt's default <target>_<custom>,
    so analysts, the dashboard and the CLI address the same names on every target. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
