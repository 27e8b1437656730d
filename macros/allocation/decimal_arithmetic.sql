{#- Exact division for money and shares. DuckDB divides DECIMALs in DOUBLE, which would put float error into
    allocated amounts; here the quotient is computed on integers of 1e-12 units and truncated toward zero,
    so it is a DECIMAL(38,12) and the same inputs always give the same digits. Null when the denominator is
    zero. Inputs must have at most 12 decimals and magnitudes below 1e14 (money in this warehouse does). -#}
{% macro divide_decimal(numerator, denominator) -%}
    {{ return(adapter.dispatch('divide_decimal', 'finops_warehouse')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__divide_decimal(numerator, denominator) -%}
    case
        when cast({{ denominator }} as {{ money_type() }}) = 0 then cast(null as {{ money_type() }})
        else cast(
            cast(
                (cast(cast({{ numerator }} as {{ money_type() }}) * 1000000000000 as hugeint) * 1000000000000)
                // cast(cast({{ denominator }} as {{ money_type() }}) * 1000000000000 as hugeint)
                as decimal(38, 0)
            ) * 0.000000000001 as {{ money_type() }}
        )
    end
{%- endmacro %}

{#- Snowflake divides NUMBERs exactly up to its result scale; truncating to 12 places matches DuckDB. -#}
{% macro snowflake__divide_decimal(numerator, denominator) -%}
    cast(
        trunc(
            cast({{ numerator }} as {{ money_type() }}) / nullif(cast({{ denominator }} as {{ money_type() }}), 0),
            12
        ) as {{ money_type() }}
    )
{%- endmacro %}
