"""Planted anomalies: where they go, how they bend usage, and the ground-truth labels file."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from finops_warehouse.demo.company import COMPANY
from finops_warehouse.demo.encode import round_units
from finops_warehouse.demo.timeline import Window

LABEL_COLUMNS = (
    "anomaly_id",
    "provider",
    "billing_account_id",
    "sub_account_id",
    "service_name",
    "team",
    "kind",
    "start_date",
    "end_date",
    "expected_daily_cost",
    "description",
)
MIN_DAYS = 7


@dataclass(frozen=True)
class AnomalyPlan:
    """One planted anomaly on every stream of (provider, sub-account, service).

    Attributes:
        anomaly_id: Stable id.
        provider: aws_cur | aws_cur2 | azure | gcp.
        billing_account_id: Payer / billing account.
        sub_account_id: Linked account, subscription or project id.
        service_name: Service as the FOCUS ServiceName mapping reads it (AWS product code, Azure
            consumedService, GCP service description).
        team: Owning team.
        kind: spike | leak | drop.
        start_day: First affected window day.
        end_day: Last affected window day (inclusive).
        factor: Spike/drop multiplier, or the leak's daily growth rate.
        description: Human explanation.
    """

    anomaly_id: str
    provider: str
    billing_account_id: str
    sub_account_id: str
    service_name: str
    team: str
    kind: str
    start_day: int
    end_day: int
    factor: float
    description: str

    def multiplier(self, day: int) -> float:
        """Usage multiplier on a window day.

        Args:
            day: Window day index.

        Returns:
            1.0 outside the anomaly.
        """
        if not self.start_day <= day <= self.end_day:
            return 1.0
        if self.kind == "leak":
            return (1.0 + self.factor) ** (day - self.start_day + 1)
        return self.factor


def plan_anomalies(window: Window) -> list[AnomalyPlan]:
    """Place the anomalies at fixed fractions of the window so any window length gets all of them.

    Args:
        window: The run window (at least MIN_DAYS long).

    Returns:
        The anomaly plans.
    """
    days = window.days
    cur_payer = COMPANY.payer("aws_cur").account_id
    cur2_payer = COMPANY.payer("aws_cur2").account_id
    azure_ba = COMPANY.azure_billing.billing_account_id
    gcp_ba = COMPANY.gcp_billing_account_id
    security = next(s for s in COMPANY.azure_subscriptions if s.team == "security")

    def at(fraction: float) -> int:
        return round(fraction * (days - 1))

    # Two to three weeks of leak, but leave the first week of a short window as its baseline.
    leak_len = max(3, min(max(14, min(21, days // 3)), days - 7))
    return [
        AnomalyPlan(
            "A001", "aws_cur", cur_payer, "210987654321", "AmazonCloudFront", "storefront", "spike",
            at(0.30), at(0.30), 6.0, "Flash-sale traffic without CDN caching: CloudFront egress x6 for a day",
        ),
        AnomalyPlan(
            "A002", "azure", azure_ba, security.subscription_id, "Microsoft.OperationalInsights", "security",
            "spike", at(0.45), at(0.45) + 1, 5.0, "Debug logging left on: Log Analytics ingestion x5 for two days",
        ),
        AnomalyPlan(
            "A003", "gcp", gcp_ba, "nw-ml-training", "Vertex AI", "ml-platform", "spike",
            at(0.62), at(0.62) + 2, 6.0, "Runaway hyper-parameter sweep: Vertex AI training x6 for three days",
        ),
        AnomalyPlan(
            "A004", "aws_cur2", cur2_payer, "401234567890", "AmazonS3", "search", "spike",
            at(0.80), at(0.80), 7.0, "Re-index job hammering S3: requests and storage x7 for a day",
        ),
        AnomalyPlan(
            "A005", "aws_cur", cur_payer, "336699112244", "AmazonS3", "data-engineering", "leak",
            days - leak_len, days - 1, 0.045,
            "Lifecycle rule removed: data-lake S3 storage grows 4.5% a day until the end of the window",
        ),
        AnomalyPlan(
            "A006", "gcp", gcp_ba, "nw-data-pipelines", "Dataflow", "data-engineering", "drop",
            at(0.52), at(0.52) + 3, 0.1, "Upstream outage: Dataflow jobs idle, spend down 90% for four days",
        ),
    ]  # fmt: skip


def anomaly_multiplier(
    plans: Sequence[AnomalyPlan], provider: str, sub_accounts: Sequence[str], services: Sequence[str]
) -> tuple[Callable[[int], np.ndarray], list[tuple[AnomalyPlan, np.ndarray]]]:
    """Build the per-day multiplier function for one provider's streams.

    Args:
        plans: All plans.
        provider: Provider key.
        sub_accounts: Each stream's sub-account id.
        services: Each stream's service name.

    Returns:
        (day -> multiplier array, [(plan, stream mask)]) for the provider's plans.
    """
    sub = np.asarray(sub_accounts)
    svc = np.asarray(services)
    targets = [(p, (sub == p.sub_account_id) & (svc == p.service_name)) for p in plans if p.provider == provider]
    n = len(sub)

    def multiplier(day: int) -> np.ndarray:
        out = np.ones(n)
        for plan, mask in targets:
            factor = plan.multiplier(day)
            if factor != 1.0:
                out[mask] *= factor
        return out

    return multiplier, targets


class AnomalyTracker:
    """Accumulates what each anomaly's streams would have cost without it, to label the expected cost."""

    def __init__(self, plans: Sequence[AnomalyPlan]) -> None:
        """Start empty.

        Args:
            plans: All plans.
        """
        self.plans = list(plans)
        self._baseline = {p.anomaly_id: 0.0 for p in plans}

    def observe(self, plan: AnomalyPlan, day: int, cost: np.ndarray, multiplier: np.ndarray) -> None:
        """Add one day's cost of the plan's streams, divided back by the multiplier.

        Args:
            plan: The anomaly.
            day: Window day index.
            cost: Billing-currency cost (1e-10 units) of the plan's rows that day.
            multiplier: The multiplier each row carried.
        """
        if plan.start_day <= day <= plan.end_day:
            self._baseline[plan.anomaly_id] += float(np.sum(cost / multiplier))

    def write(self, path: Path, window: Window) -> None:
        """Write labels/anomalies.csv.

        Args:
            path: Output path.
            window: The run window.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(LABEL_COLUMNS)
            for p in self.plans:
                days = p.end_day - p.start_day + 1
                per_day = round_units(int(self._baseline[p.anomaly_id] / days), 10**8)
                writer.writerow(
                    [
                        p.anomaly_id,
                        p.provider,
                        p.billing_account_id,
                        p.sub_account_id,
                        p.service_name,
                        p.team,
                        p.kind,
                        window.dates[p.start_day].isoformat(),
                        window.dates[p.end_day].isoformat(),
                        f"{per_day // 10**10}.{per_day % 10**10 // 10**8:02d}",
                        p.description,
                    ]
                )
