{#- Fails for every group of `group_by` whose `sum_column` does not add up to `expected` exactly. -#}
{% test group_sum_equals(model, sum_column, group_by, expected) %}

select
    {{ group_by | join(', ') }},
    sum({{ sum_column }}) as actual_total
from {{ model }}
group by {{ group_by | join(', ') }}
having sum({{ sum_column }}) <> {{ expected }}

{% endtest %}
