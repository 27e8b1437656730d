"""Orchestrates a demo run: validates arguments, runs each provider writer, writes labels and totals."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from finops_warehouse.demo.aws import AwsModel
from finops_warehouse.demo.aws_cur import write_aws_cur
from finops_warehouse.demo.aws_cur2 import write_aws_cur2
from finops_warehouse.demo.azure import AzureModel, write_azure
from finops_warehouse.demo.events import write_events
from finops_warehouse.demo.gcp import GcpModel, write_gcp
from finops_warehouse.demo.labels import MIN_DAYS, AnomalyTracker, plan_anomalies
from finops_warehouse.demo.optimize import BUSY_CPU, write_utilisation
from finops_warehouse.demo.output import InvoiceTotal, Progress, ProviderOutput, write_totals
from finops_warehouse.demo.timeline import UTC, Window

MAX_DAYS = 3660
# Current-delivery line items at 90 days per scale (Azure actual + amortized both count).
SCALES = {"small": 300_000, "medium": 1_000_000, "large": 10_000_000}
EVENTS_PER_90_DAYS = {"small": 100_000, "medium": 300_000, "large": 1_000_000}
_REFERENCE_DAYS = 90
SHARES = {"aws_cur": 0.42, "aws_cur2": 0.10, "azure": 0.28, "gcp": 0.20}
# Rows each stream yields per day (SP negations, unused-commitment and fee rows, inactive days), measured.
_ROWS_PER_STREAM_DAY = {"aws_cur": 1.19, "aws_cur2": 1.03, "azure": 1.86, "gcp": 0.93}

# Paths this generator owns under OUT; only these are cleared before a run.
_OWNED = (
    "aws/cur/finops-demo",
    "aws/cur2/finops-demo",
    "azure/exports/finops-demo-actual",
    "azure/exports/finops-demo-amortized",
    "gcp/billing_export",
    "events/business_events",
    "labels/anomalies.csv",
    "utilisation/utilisation.csv",
    "expected/invoice_totals.csv",
)


@dataclass
class DemoResult:
    """What a demo run wrote.

    Attributes:
        out: Output root.
        files: Paths written per provider ("aws_cur", "aws_cur2", "azure", "gcp", "events", "labels",
            "utilisation", "expected").
        rows: Row counts per provider and file kind, e.g. rows["azure"]["actual_current"].
        expected_totals: Path of expected/invoice_totals.csv.
        anomalies: Path of labels/anomalies.csv.
        seconds: Wall-clock generation time.
        totals: The expected invoice totals (same content as the CSV, as integers of 1e-10).
    """

    out: Path
    files: dict[str, list[Path]] = field(default_factory=dict)
    rows: dict[str, dict[str, int]] = field(default_factory=dict)
    expected_totals: Path = Path()
    anomalies: Path = Path()
    seconds: float = 0.0
    totals: list[InvoiceTotal] = field(default_factory=list)

    @property
    def line_items(self) -> int:
        """Billing rows in current deliveries across providers (Azure actual + amortized both count)."""
        billing = ("aws_cur", "aws_cur2", "azure", "gcp")
        return sum(n for p in billing for kind, n in self.rows.get(p, {}).items() if kind.endswith("current"))


def generate_demo(
    out: Path,
    days: int = 90,
    seed: int = 42,
    scale: str = "small",
    end_date: dt.date | None = None,
    progress: Progress | None = None,
) -> DemoResult:
    """Generate the whole demo dataset under `out`.

    Args:
        out: Output root (created if missing; only this generator's own sub-paths are replaced).
        days: Days of data ending on `end_date` inclusive.
        seed: Random seed; the same (days, seed, scale, end_date) gives byte-identical output.
        scale: "small" (~300k line items at 90 days), "medium" (~1M) or "large" (~10M, streamed).
        end_date: Last day with data; defaults to yesterday (UTC).
        progress: Called as progress(step, done, total) while writing.

    Returns:
        Paths, row counts and the expected totals.

    Raises:
        ValueError: For an unknown scale or a days value out of range.
    """
    _validate(days, scale)
    started = time.perf_counter()
    end_date = end_date or (dt.datetime.now(UTC).date() - dt.timedelta(days=1))
    out = Path(out)
    _clear(out)
    window = Window(end_date, days)
    plans = plan_anomalies(window)
    tracker = AnomalyTracker(plans)
    streams = _stream_counts(scale)
    result = DemoResult(out=out)
    aws_cur = AwsModel("aws_cur", window, seed, streams["aws_cur"], plans, tracker)
    outputs: dict[str, ProviderOutput] = {
        "aws_cur": write_aws_cur(aws_cur, out, window, progress),
        "aws_cur2": write_aws_cur2(
            AwsModel("aws_cur2", window, seed, streams["aws_cur2"], plans, tracker), out, window, progress
        ),
        "azure": write_azure(AzureModel(window, seed, streams["azure"], plans, tracker), out, window, progress),
        "gcp": write_gcp(GcpModel(window, seed, streams["gcp"], plans, tracker), out, window, progress),
        "events": write_events(out, window, seed, EVENTS_PER_90_DAYS[scale] // _REFERENCE_DAYS, progress),
    }
    for name, output in outputs.items():
        result.files[name] = output.files
        result.rows[name] = output.rows
        result.totals += output.totals
    result.anomalies = out / "labels" / "anomalies.csv"
    tracker.write(result.anomalies, window)
    result.files["labels"] = [result.anomalies]
    utilisation = out / "utilisation" / "utilisation.csv"
    result.files["utilisation"] = [write_utilisation(utilisation, end_date, aws_cur.steady_instance_ids(len(BUSY_CPU)))]
    result.expected_totals = write_totals(out / "expected" / "invoice_totals.csv", result.totals)
    result.files["expected"] = [result.expected_totals]
    result.seconds = time.perf_counter() - started
    return result


def _validate(days: int, scale: str) -> None:
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}: choose one of {', '.join(SCALES)}")
    if isinstance(days, bool) or not isinstance(days, int) or not MIN_DAYS <= days <= MAX_DAYS:
        raise ValueError(f"days must be a whole number from {MIN_DAYS} to {MAX_DAYS}, got {days!r}")


def _stream_counts(scale: str) -> dict[str, int]:
    target = SCALES[scale]
    return {
        provider: max(40, round(target * share / (_REFERENCE_DAYS * _ROWS_PER_STREAM_DAY[provider])))
        for provider, share in SHARES.items()
    }


def _clear(out: Path) -> None:
    for relative in _OWNED:
        path = out / relative
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
