{#- Money is DECIMAL end to end. Raw tables keep amounts as the provider wrote them (text), and this is the
    one place that turns them into numbers, so every model and the reconciliation tests agree on scale. -#}
{% macro money_type() -%}
    decimal({{ var('money_precision') }}, {{ var('money_scale') }})
{%- endmacro %}

{% macro to_money(expression) -%}
    cast({{ expression }} as {{ money_type() }})
{%- endmacro %}

{% macro to_quantity(expression) -%}
    cast({{ expression }} as decimal(38, 12))
{%- endmacro %}

{#- The product of decimals, rounded back to money scale after each step: scales add up in a product,
    so a chain of three 12-place factors would overflow 38 digits before it is rounded. -#}
{% macro multiply_decimals(factors) -%}
    {%- set product = namespace(sql=factors[0]) -%}
    {%- for factor in factors[1:] -%}
        {%- set product.sql = 'cast(' ~ product.sql ~ ' * ' ~ factor ~ ' as ' ~ money_type() ~ ')' -%}
    {%- endfor -%}
    {{ product.sql }}
{%- endmacro %}

{#- Exchange rates: units of one currency per unit of another. Ten decimal places hold any published rate
    (they carry four to six significant figures, 0.0000615 for IDR to USD included), and the product with a
    money amount stays well inside 38 digits. The fx_rates seed declares the same type. -#}
{% macro exchange_rate_type() -%}
    decimal(18, 10)
{%- endmacro %}

{% macro to_exchange_rate(expression) -%}
    cast({{ expression }} as {{ exchange_rate_type() }})
{%- endmacro %}
