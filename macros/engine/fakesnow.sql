{#- fakesnow, the Snowflake emulator CI builds on (target `fakesnow`), translates Snowflake SQL to DuckDB and
    misses a few Snowflake features. The snowflake__ macros hand over to these variants on that target only,
    so what production runs is the Snowflake SQL beside them; each one says which gap it covers.
    Config-level workarounds (transient tmp relations, no persisted docs) are in dbt_project.yml. -#}

{% macro is_fakesnow() -%}
    {{ return(target.type == 'snowflake' and target.name == 'fakesnow') }}
{%- endmacro %}

{#- fakesnow casts a VARIANT string to text with its JSON quotes ("b" instead of b); the path form it
    translates correctly. On Snowflake both forms give the same text. -#}
{% macro fakesnow__json_text(json_expression, key) -%}
    try_parse_json({{ json_expression }}):"{{ key }}"::varchar
{%- endmacro %}

{#- fakesnow has no TRY_TO_TIMESTAMP_TZ / _NTZ, and its TRY_CAST and TRY_TO_TIMESTAMP fail or return 1970 on
    text they cannot read. TRY_TO_DATE behaves, which covers the date-only US format; the other kinds are cast,
    so an unreadable value fails the fakesnow build instead of turning null (CI loads only valid exports). -#}
{% macro fakesnow__parse_utc_timestamp(expression, kind) -%}
    {%- if kind == 'us_date' -%}
    cast(coalesce(
        try_to_date({{ expression }}, 'MM/DD/YYYY'),
        try_to_date(left({{ expression }}, 10), 'YYYY-MM-DD')
    ) as timestamp_ntz)
    {%- elif kind == 'bigquery' -%}
    cast(nullif(replace({{ expression }}, ' UTC', ''), '') as timestamp_ntz)
    {%- else -%}
    convert_timezone('UTC', cast(nullif({{ expression }}, '') as timestamp_tz))::timestamp_ntz
    {%- endif -%}
{%- endmacro %}

{#- dbt's unit tests create a temporary table to read the columns of the model under test, and fakesnow
    rejects temporary tables: there the table is transient (dbt drops it after the test). Everywhere else this
    is dbt's own macro, unchanged. -#}
{% macro snowflake__get_create_table_as_sql(temporary, relation, sql) -%}
    {{ return(dbt.default__get_create_table_as_sql(temporary and not is_fakesnow(), relation, sql)) }}
{%- endmacro %}
