"""Cost Explorer requests and the rows they become."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ingestion.aws_api import Backoff, pages
from ingestion.errors import LoadError
from ingestion.ledger import Ledger

GRANULARITIES = ("DAILY", "HOURLY")
METRICS = ("UnblendedCost", "AmortizedCost")
# A rerun replaces every period it returns: rows are deleted by this key before the new ones go in.
MERGE_KEY = ("granularity", "group_by", "period_start")
_ACCOUNT = re.compile(r"\d{12}")
_CURRENCY = re.compile(r"[A-Z]{3}")
# Cost Explorer keeps 14 days of hourly data; the API rejects hourly windows that reach further back.
HOURLY_DAYS = 14


@dataclass(frozen=True)
class CostWindow:
    """What to ask Cost Explorer for.

    Attributes:
        start: First day (inclusive).
        end: Day after the last one (exclusive), as Cost Explorer's TimePeriod.End.
        granularity: DAILY or HOURLY.
        tag_keys: Cost allocation tag keys to group by as well (one extra request each).
    """

    start: dt.date
    end: dt.date
    granularity: str = "DAILY"
    tag_keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.granularity not in GRANULARITIES:
            raise LoadError(f"granularity must be one of {', '.join(GRANULARITIES)}, got {self.granularity!r}")
        if self.end <= self.start:
            raise LoadError(f"--end {self.end} must be after --start {self.start} (end is exclusive)")
        if self.granularity == "HOURLY" and (self.end - self.start).days > HOURLY_DAYS:
            raise LoadError(f"hourly data covers at most {HOURLY_DAYS} days; asked for {(self.end - self.start).days}")

    @property
    def group_sets(self) -> list[tuple[str, str]]:
        """(first, second) GroupBy keys per request: Cost Explorer groups by at most two at once."""
        return [("LINKED_ACCOUNT", "SERVICE"), *(("LINKED_ACCOUNT", f"TAG:{key}") for key in self.tag_keys)]

    def time_period(self) -> dict[str, str]:
        if self.granularity == "HOURLY":
            return {"Start": f"{self.start}T00:00:00Z", "End": f"{self.end}T00:00:00Z"}
        return {"Start": self.start.isoformat(), "End": self.end.isoformat()}

    def describe(self, group_by: str) -> str:
        """How a request is named in the load log and in errors."""
        return f"aws-cost-explorer {self.granularity} {self.start}..{self.end} by {group_by}"


def request(window: CostWindow, group_set: tuple[str, str]) -> dict[str, Any]:
    return {
        "TimePeriod": window.time_period(),
        "Granularity": window.granularity,
        "Metrics": list(METRICS),
        "GroupBy": [_group(key) for key in group_set],
    }


def _group(key: str) -> dict[str, str]:
    if key.startswith("TAG:"):
        return {"Type": "TAG", "Key": key.removeprefix("TAG:")}
    return {"Type": "DIMENSION", "Key": key}


def cost_rows(client: Any, window: CostWindow, backoff: Backoff, loaded_at: str, ledger: Ledger) -> Iterator[dict]:
    """One row per period and group of every request; groups that are not costs go to the rejected rows."""
    for group_set in window.group_sets:
        group_by = ",".join(group_set)
        what = window.describe(group_by)
        outcome = ledger.open_file(what, f"{window.start}..{window.end}")
        ordinal = 0
        for page_number, page in enumerate(
            pages(client.get_cost_and_usage, backoff, what, "NextPageToken", request(window, group_set)), start=1
        ):
            for result in page.get("ResultsByTime", []):
                for group in result.get("Groups", []):
                    ordinal += 1
                    outcome.rows_read += 1
                    row = _row(window, group_by, result, group, what, ordinal, page_number, loaded_at)
                    problem = _problem(row, group_set)
                    if problem:
                        ledger.reject(outcome, ordinal, problem, json.dumps(group, sort_keys=True))
                        continue
                    outcome.rows_loaded += 1
                    yield row
        outcome.finish()


def _row(
    window: CostWindow,
    group_by: str,
    result: dict[str, Any],
    group: dict[str, Any],
    what: str,
    ordinal: int,
    page_number: int,
    loaded_at: str,
) -> dict[str, Any]:
    keys = [*group.get("Keys", []), None, None]
    metrics = group.get("Metrics", {})
    value = keys[1]
    if value is not None and "$" in value and group_by.split(",")[1].startswith("TAG:"):
        # Tag groups come back as "key$value"; "key$" is spend without the tag.
        value = value.split("$", 1)[1] or None
    return {
        "granularity": window.granularity,
        "group_by": group_by,
        "period_start": result.get("TimePeriod", {}).get("Start"),
        "period_end": result.get("TimePeriod", {}).get("End"),
        "account_id": keys[0],
        "group_value": value,
        "unblended_cost": metrics.get("UnblendedCost", {}).get("Amount"),
        "unblended_currency": metrics.get("UnblendedCost", {}).get("Unit"),
        "amortized_cost": metrics.get("AmortizedCost", {}).get("Amount"),
        "amortized_currency": metrics.get("AmortizedCost", {}).get("Unit"),
        "is_estimated": bool(result.get("Estimated", False)),
        "_window_start": window.start.isoformat(),
        "_window_end": window.end.isoformat(),
        "_source_file": what,
        "_line_number": ordinal,
        "_page": page_number,
        "_loaded_at": dt.datetime.fromisoformat(loaded_at),
    }


def _problem(row: dict[str, Any], group_set: tuple[str, str]) -> str | None:
    """Why a group cannot be loaded, or None."""
    if not row["period_start"]:
        return "the result has no TimePeriod.Start"
    if not _ACCOUNT.fullmatch(str(row["account_id"] or "")):
        return f"{group_set[0]} key {row['account_id']!r} is not a 12-digit account id"
    for metric, amount, currency in (
        ("UnblendedCost", row["unblended_cost"], row["unblended_currency"]),
        ("AmortizedCost", row["amortized_cost"], row["amortized_currency"]),
    ):
        if not _is_number(amount):
            return f"{metric} amount {amount!r} is not a number"
        if not _CURRENCY.fullmatch(str(currency or "")):
            return f"{metric} unit {currency!r} is not a currency code"
    return None


def _is_number(text: Any) -> bool:
    try:
        return Decimal(str(text)).is_finite()
    except InvalidOperation:
        return False
