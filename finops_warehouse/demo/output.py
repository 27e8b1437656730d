"""What each provider writer reports back: files, row counts and exact invoice totals."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finops_warehouse.demo.encode import decimal_text
from finops_warehouse.demo.timeline import Delivery

Progress = Callable[[str, int, int], None]
TOTALS_COLUMNS = (
    "provider",
    "billing_account_id",
    "billing_period",
    "currency",
    "billed_total",
    "effective_total",
    "row_count",
)


@dataclass(frozen=True)
class InvoiceTotal:
    """Expected totals of one current delivery, from the generated integers.

    Attributes:
        provider: aws_cur | aws_cur2 | azure | gcp.
        billing_account_id: Payer / billing account.
        billing_period: 'YYYY-MM'.
        currency: Billing currency.
        billed: Billed total, 1e-10 units.
        effective: Effective (amortised) total, 1e-10 units.
        rows: Rows in the current delivery.
    """

    provider: str
    billing_account_id: str
    billing_period: str
    currency: str
    billed: int
    effective: int
    rows: int


@dataclass
class ProviderOutput:
    """One writer's result.

    Attributes:
        files: Every file written (data and manifests).
        rows: Row count per kind, e.g. {"current": 120000, "superseded": 9000}.
        totals: Expected invoice totals per billing account and period.
    """

    files: list[Path] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    totals: list[InvoiceTotal] = field(default_factory=list)

    def count(self, kind: str, rows: int) -> None:
        """Add rows to a kind's count.

        Args:
            kind: Row kind.
            rows: Rows to add.
        """
        self.rows[kind] = self.rows.get(kind, 0) + rows


class Ticker:
    """Reports progress of one step as (step, done, total), one tick per written chunk."""

    def __init__(self, progress: Progress | None, step: str, total: int) -> None:
        """Start at zero.

        Args:
            progress: The caller's callback, or None.
            step: Step name reported with every tick.
            total: Number of ticks expected.
        """
        self._progress = progress
        self._step = step
        self._total = total
        self._done = 0

    def tick(self) -> None:
        """Count one chunk and report it."""
        self._done += 1
        if self._progress is not None:
            self._progress(self._step, self._done, self._total)


def chunks_in(deliveries: list[Delivery]) -> int:
    """Chunks a writer yields for these deliveries: one per day plus one for month-level rows.

    Args:
        deliveries: The deliveries to write.

    Returns:
        Expected tick count.
    """
    return sum(max(0, d.last_day - d.period.first_day + 1) + 1 for d in deliveries)


def write_json(path: Path, payload: dict[str, Any]) -> Path:
    """Write a manifest-style JSON file (indented, key order kept).

    Args:
        path: Output path; parents are created.
        payload: JSON-serialisable mapping.

    Returns:
        The path.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return path


def write_totals(path: Path, totals: list[InvoiceTotal]) -> Path:
    """Write expected/invoice_totals.csv with plain decimal strings.

    Args:
        path: Output path.
        totals: Rows to write.

    Returns:
        The path.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(TOTALS_COLUMNS)
        for t in sorted(totals, key=lambda t: (t.provider, t.billing_account_id, t.billing_period)):
            writer.writerow(
                [
                    t.provider,
                    t.billing_account_id,
                    t.billing_period,
                    t.currency,
                    decimal_text(t.billed, 10),
                    decimal_text(t.effective, 10),
                    t.rows,
                ]
            )
    return path
