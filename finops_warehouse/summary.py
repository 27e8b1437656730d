"""The short summary `finops demo` prints: rows per provider and cost per provider and month."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table


def print_summary(console: Console, warehouse: Path) -> None:
    """Rows per provider, then billed and effective cost per provider, month and currency."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.sql("select x_SourceProvider, count(*) from marts.focus_costs group by 1 order by 1").fetchall()
        money = con.sql(
            """
            select x_SourceProvider, strftime(BillingPeriodStart, '%Y-%m') as month, BillingCurrency,
                   sum(BilledCost), sum(EffectiveCost)
            from marts.focus_costs
            group by all
            order by 1, 2, 3
            """
        ).fetchall()
    counts = Table(title="FOCUS rows per provider")
    counts.add_column("provider")
    counts.add_column("rows", justify="right")
    for provider, count in rows:
        counts.add_row(provider, f"{count:,}")
    console.print(counts)
    costs = Table(title="Billed and effective cost per provider and billing period")
    for name in ("provider", "billing period", "currency"):
        costs.add_column(name)
    costs.add_column("billed cost", justify="right")
    costs.add_column("effective cost", justify="right")
    for provider, month, currency, billed, effective in money:
        costs.add_row(provider, month, currency, _money(billed), _money(effective))
    console.print(costs)


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):,}"
