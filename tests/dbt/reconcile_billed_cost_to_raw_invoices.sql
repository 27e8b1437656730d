{#- FOCUS BilledCost equals, exactly, the invoice total computed independently from the raw tables, for every
    provider billing partition and currency (marts.invoice_reconciliation, a view, so this also catches a
    changed focus_costs without a rebuild). Returns the partitions that differ or exist on one side only. -#}

select *
from {{ ref('invoice_reconciliation') }}
where not is_reconciled
