"""CloudWatch metric discovery and daily statistics, as rows of the utilisation shape."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ingestion.aws_api import Backoff, pages
from ingestion.errors import LoadError
from ingestion.ledger import Ledger

KEY = ("provider", "resource_id", "metric", "metric_date")
# (namespace, CloudWatch metric name) -> the utilisation metric it is.
METRICS = {
    ("AWS/EC2", "CPUUtilization"): "cpu_utilization",
    ("CWAgent", "mem_used_percent"): "memory_utilization",
}
STATISTICS = ("Average", "Maximum")
DAY_SECONDS = 86_400
# get_metric_data takes at most 500 queries per call; each metric needs one per statistic.
QUERIES_PER_CALL = 500


@dataclass(frozen=True)
class MetricWindow:
    """Days to read: start inclusive, end exclusive (UTC)."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise LoadError(f"--end {self.end} must be after --start {self.start} (end is exclusive)")

    def describe(self, what: str) -> str:
        return f"aws-cloudwatch {what} {self.start}..{self.end}"


@dataclass(frozen=True)
class InstanceMetric:
    """One CloudWatch metric of one instance."""

    instance_id: str
    metric: str
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]

    def stat(self, statistic: str) -> dict[str, Any]:
        return {
            "Metric": {
                "Namespace": self.namespace,
                "MetricName": self.name,
                "Dimensions": [{"Name": n, "Value": v} for n, v in self.dimensions],
            },
            "Period": DAY_SECONDS,
            "Stat": statistic,
        }


def list_instance_metrics(client: Any, window: MetricWindow, backoff: Backoff) -> list[InstanceMetric]:
    """Every instance's CPU and memory metric, one per (instance, metric): the agent may publish several
    dimension sets for one instance (with ImageId, InstanceType), and the first one listed is enough."""
    found: dict[tuple[str, str], InstanceMetric] = {}
    for (namespace, name), metric in METRICS.items():
        request = {"Namespace": namespace, "MetricName": name}
        for page in pages(client.list_metrics, backoff, window.describe(f"list_metrics {name}"), "NextToken", request):
            for listed in page.get("Metrics", []):
                dimensions = tuple((d["Name"], d["Value"]) for d in listed.get("Dimensions", []))
                instance = dict(dimensions).get("InstanceId")
                if instance and (instance, metric) not in found:
                    found[(instance, metric)] = InstanceMetric(instance, metric, namespace, name, dimensions)
    return sorted(found.values(), key=lambda m: (m.instance_id, m.metric))


def metric_rows(client: Any, window: MetricWindow, backoff: Backoff, loaded_at: str, ledger: Ledger) -> Iterator[dict]:
    """One row per instance, metric and day that has both a daily Average and Maximum."""
    listed = list_instance_metrics(client, window, backoff)
    per_call = QUERIES_PER_CALL // len(STATISTICS)
    for first in range(0, len(listed), per_call):
        batch = listed[first : first + per_call]
        what = window.describe(f"get_metric_data {first + 1}-{first + len(batch)} of {len(listed)}")
        outcome = ledger.open_file(what, f"{window.start}..{window.end}")
        values = _daily_values(client, window, backoff, what, batch)
        for (index, day), stats in sorted(values.items()):
            outcome.rows_read += 1
            if set(stats) != set(STATISTICS):
                missing = ", ".join(s for s in STATISTICS if s not in stats)
                ledger.reject(outcome, None, f"{batch[index].instance_id} {day}: no {missing}", str(stats))
                continue
            outcome.rows_loaded += 1
            yield {
                "metric_date": day.isoformat(),
                "provider": "AWS",
                "resource_id": batch[index].instance_id,
                "metric": batch[index].metric,
                "average": _percent(stats["Average"]),
                "maximum": _percent(stats["Maximum"]),
                "_source_file": what,
                "_loaded_at": dt.datetime.fromisoformat(loaded_at),
            }
        outcome.finish()


def _daily_values(
    client: Any, window: MetricWindow, backoff: Backoff, what: str, batch: list[InstanceMetric]
) -> dict[tuple[int, dt.date], dict[str, float]]:
    """{(metric index in batch, day): {statistic: value}} over every page of one get_metric_data call."""
    queries = [
        {"Id": f"m{i}_{statistic.lower()}", "MetricStat": metric.stat(statistic), "ReturnData": True}
        for i, metric in enumerate(batch)
        for statistic in STATISTICS
    ]
    request = {
        "MetricDataQueries": queries,
        "StartTime": dt.datetime.combine(window.start, dt.time(), dt.UTC),
        "EndTime": dt.datetime.combine(window.end, dt.time(), dt.UTC),
        "ScanBy": "TimestampAscending",
    }
    values: dict[tuple[int, dt.date], dict[str, float]] = {}
    for page in pages(client.get_metric_data, backoff, what, "NextToken", request):
        for result in page.get("MetricDataResults", []):
            index_text, statistic = result["Id"][1:].split("_", 1)
            name = next(s for s in STATISTICS if s.lower() == statistic)
            for stamp, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=True):
                day = stamp.astimezone(dt.UTC).date()
                values.setdefault((int(index_text), day), {})[name] = value
    return values


def _percent(value: float) -> str:
    """CloudWatch returns doubles; four decimals of a percentage is more than any rule needs."""
    return f"{value:.4f}"
