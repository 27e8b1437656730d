"""Compare FOCUS totals with invoice totals computed outside the warehouse (the demo's expected totals)."""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb

InvoiceKey = tuple[str, str, str, str]  # provider layout, native billing account, YYYY-MM, currency


def expected_totals(invoice_totals_csv: Path) -> dict[InvoiceKey, tuple[Decimal, Decimal]]:
    """Billed and effective totals per invoice from a `provider,billing_account_id,billing_period,...` CSV."""
    with open(invoice_totals_csv, newline="") as handle:
        return {
            (row["provider"], row["billing_account_id"], row["billing_period"], row["currency"]): (
                Decimal(row["billed_total"]),
                Decimal(row["effective_total"]),
            )
            for row in csv.DictReader(handle)
        }


def focus_totals(warehouse: Path) -> dict[InvoiceKey, tuple[Decimal, Decimal]]:
    """FOCUS billed and effective totals keyed like the providers' invoices.

    The key comes from each row's billing partition (the unit a delivery replaces), which names the
    provider's own billing account and period: AWS payer | YYYY-MM, Azure dataset | account | YYYY-MM,
    GCP account | YYYYMM (the invoice month).
    """
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.sql(
            """
            select x_SourceProvider, x_SourceLayout, x_BillingPartition, BillingCurrency,
                   sum(BilledCost), sum(EffectiveCost)
            from marts.focus_costs
            group by all
            """
        ).fetchall()
    totals: dict[InvoiceKey, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for provider, layout, partition, currency, billed, effective in rows:
        totals[_invoice_key(provider, layout, partition, currency)][0] += billed
        totals[_invoice_key(provider, layout, partition, currency)][1] += effective
    return {key: (billed, effective) for key, (billed, effective) in totals.items()}


def _invoice_key(provider: str, layout: str, partition: str, currency: str) -> InvoiceKey:
    parts = partition.split("|")
    if provider == "aws":
        return ("aws_cur2" if layout == "cur2" else "aws_cur", parts[0], parts[1], currency)
    if provider == "azure":
        return ("azure", parts[1], parts[2], currency)
    return ("gcp", parts[0], f"{parts[1][:4]}-{parts[1][4:]}", currency)


def mismatches(warehouse: Path, invoice_totals_csv: Path) -> list[str]:
    """One line per invoice whose billed or effective total differs, or that only one side has."""
    expected, actual = expected_totals(invoice_totals_csv), focus_totals(warehouse)
    problems = []
    for key in sorted(set(expected) | set(actual)):
        if expected.get(key) != actual.get(key):
            problems.append(f"{' '.join(key)}: expected {expected.get(key)}, FOCUS has {actual.get(key)}")
    return problems
