{#- Parse the timestamp formats the providers write into a timezone-naive UTC timestamp.
    kinds: iso8601 ("2026-08-01T00:00:00Z", "2026-08-01T00:00:00.000Z", "2026-08-01 00:00:00"),
           us_date ("08/01/2026", Azure EA and MCA), bigquery ("2026-08-01 07:00:00 UTC"). -#}
{% macro parse_utc_timestamp(expression, kind='iso8601') -%}
    {{ return(adapter.dispatch('parse_utc_timestamp', 'finops_warehouse')(expression, kind)) }}
{%- endmacro %}

{% macro default__parse_utc_timestamp(expression, kind) -%}
    {%- if kind == 'us_date' -%}
    coalesce(
        try_strptime({{ expression }}, '%m/%d/%Y'),
        try_strptime(left({{ expression }}, 10), '%Y-%m-%d')
    )
    {%- elif kind == 'bigquery' -%}
    coalesce(
        try_strptime({{ expression }}, '%Y-%m-%d %H:%M:%S UTC'),
        try_strptime({{ expression }}, '%Y-%m-%d %H:%M:%S.%f UTC'),
        try_strptime({{ expression }}, '%Y-%m-%dT%H:%M:%SZ')
    )
    {%- else -%}
    coalesce(
        try_strptime({{ expression }}, '%Y-%m-%dT%H:%M:%SZ'),
        try_strptime({{ expression }}, '%Y-%m-%dT%H:%M:%S.%gZ'),
        try_strptime({{ expression }}, '%Y-%m-%d %H:%M:%S'),
        try_strptime({{ expression }}, '%Y-%m-%dT%H:%M:%S%z')::timestamp
    )
    {%- endif -%}
{%- endmacro %}

{% macro snowflake__parse_utc_timestamp(expression, kind) -%}
    {%- if is_fakesnow() %}{{ return(fakesnow__parse_utc_timestamp(expression, kind)) }}{% endif -%}
    {%- if kind == 'us_date' -%}
    coalesce(
        try_to_timestamp_ntz({{ expression }}, 'MM/DD/YYYY'),
        try_to_timestamp_ntz(left({{ expression }}, 10), 'YYYY-MM-DD')
    )
    {%- elif kind == 'bigquery' -%}
    try_to_timestamp_ntz(replace({{ expression }}, ' UTC', ''))
    {%- else -%}
    convert_timezone('UTC', try_to_timestamp_tz({{ expression }}))::timestamp_ntz
    {%- endif -%}
{%- endmacro %}

{% macro add_days(expression, days) -%}
    {{ return(adapter.dispatch('add_days', 'finops_warehouse')(expression, days)) }}
{%- endmacro %}

{% macro default__add_days(expression, days) -%}
    ({{ expression }} + interval ({{ days }}) day)
{%- endmacro %}

{% macro snowflake__add_days(expression, days) -%}
    dateadd(day, {{ days }}, {{ expression }})
{%- endmacro %}

{% macro add_months(expression, months) -%}
    {{ return(adapter.dispatch('add_months', 'finops_warehouse')(expression, months)) }}
{%- endmacro %}

{% macro default__add_months(expression, months) -%}
    ({{ expression }} + interval ({{ months }}) month)
{%- endmacro %}

{% macro snowflake__add_months(expression, months) -%}
    dateadd(month, {{ months }}, {{ expression }})
{%- endmacro %}

{#- First instant of the month holding the timestamp. -#}
{% macro month_start(expression) -%}
    date_trunc('month', {{ expression }})
{%- endmacro %}

{#- dlt stores the naive `_loaded_at` it was given as TIMESTAMP WITH TIME ZONE; bring it back to naive UTC. -#}
{% macro loaded_at_utc(available) -%}
    {%- if '_loaded_at' in available -%}
    {{ return(adapter.dispatch('loaded_at_utc', 'finops_warehouse')()) }}
    {%- else -%}
    cast(null as timestamp)
    {%- endif -%}
{%- endmacro %}

{% macro default__loaded_at_utc() -%}
    timezone('UTC', _loaded_at)
{%- endmacro %}

{% macro snowflake__loaded_at_utc() -%}
    convert_timezone('UTC', _loaded_at)::timestamp_ntz
{%- endmacro %}

{#- GCP invoice months are Pacific-time months: `202608` starts 2026-08-01 00:00 America/Los_Angeles.
    Returns that instant, `months_after` months later, as naive UTC. -#}
{% macro pacific_month_start_utc(yyyymm_expression, months_after=0) -%}
    {{ return(adapter.dispatch('pacific_month_start_utc', 'finops_warehouse')(yyyymm_expression, months_after)) }}
{%- endmacro %}

{% macro default__pacific_month_start_utc(yyyymm_expression, months_after) -%}
    timezone('UTC', timezone('America/Los_Angeles',
        strptime({{ yyyymm_expression }} || '01', '%Y%m%d') + interval ({{ months_after }}) month
    ))
{%- endmacro %}

{% macro snowflake__pacific_month_start_utc(yyyymm_expression, months_after) -%}
    convert_timezone('America/Los_Angeles', 'UTC',
        dateadd(month, {{ months_after }}, to_timestamp_ntz({{ yyyymm_expression }} || '01', 'YYYYMMDD'))
    )
{%- endmacro %}

{#- A timestamp column of a raw table (dlt writes them with a time zone) as naive UTC; null when the table
    has no such column. -#}
{% macro raw_timestamp_utc(available, name) -%}
    {%- if name in available -%}
    {{ return(adapter.dispatch('raw_timestamp_utc', 'finops_warehouse')(raw_column_identifier(name))) }}
    {%- else -%}
    cast(null as timestamp)
    {%- endif -%}
{%- endmacro %}

{% macro default__raw_timestamp_utc(identifier) -%}
    timezone('UTC', {{ identifier }})
{%- endmacro %}

{% macro snowflake__raw_timestamp_utc(identifier) -%}
    convert_timezone('UTC', {{ identifier }})::timestamp_ntz
{%- endmacro %}
