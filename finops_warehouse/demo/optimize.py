"""Planted savings opportunities: idle resources, oversized instances and steady on-demand usage.

Each planted resource is a real AWS stream of the legacy-CUR payer (so its rows are line items of the
export and the invoice totals the generator writes include them) that bills a fixed quantity every day of
the window: no noise, no growth, no anomaly multiplier and no Savings Plan coverage, so its daily cost is
exactly quantity x on-demand rate and a test can compute the saving the recommendations should report by
hand. They run from the first day of the window, so a steady planted cost never looks like an anomaly; the
one that stops (the stopped database) drops by far less than the anomaly detector's minimum impact.

The utilisation file written here is the generic utilisation CSV (`ingestion/utilisation`): daily CPU
(and memory where the agent publishes it) for the planted instances and for a few ordinary busy ones, so
the rightsizing rules have both cases to tell apart.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

UTILISATION_COLUMNS = ("date", "provider", "resource_id", "metric", "average", "maximum")
# Days of utilisation written, ending on the window's last day: enough for a 14-day rightsizing window
# with room for the var to grow.
UTILISATION_DAYS = 30
# The planted database stops this many days before the window's end: longer than the idle lookback.
STOPPED_DAYS_BEFORE_END = 30


@dataclass(frozen=True)
class PlantedResource:
    """One planted stream of the `aws_cur` payer.

    Attributes:
        case: The recommendation rule expected to find it (`rule` in marts.recommendations), or
            "context" for a stream that only supports another case (the stopped database's storage).
        account_name: Linked account it runs in (its team owns it).
        spec: Key of the AWS spec it bills (finops_warehouse.demo.aws.AWS_SPECS).
        resource_id: lineItem/ResourceId.
        quantity: Fixed daily usage quantity (spec unit per day), decimal text.
        stops_before_end: Days before the window's end on which it stops billing (0: runs to the end).
        cpu_average: Daily average CPU % written to the utilisation file, or None for none.
        cpu_maximum: Daily maximum CPU %.
        memory_average: Daily average memory %, or None where no agent publishes it.
    """

    case: str
    account_name: str
    spec: str
    resource_id: str
    quantity: str
    stops_before_end: int = 0
    cpu_average: str | None = None
    cpu_maximum: str | None = None
    memory_average: str | None = None


PLANTED: tuple[PlantedResource, ...] = (
    # An Elastic IP nobody attached: the CUR bills it as PublicIPv4:IdleAddress.
    PlantedResource(
        "idle_unattached_address", "commerce-checkout-prod", "eip_idle",
        "arn:aws:ec2:us-east-1:298765432101:elastic-ip/eipalloc-0c4e2a9b7d1f30851", "24",
    ),
    # A database stopped a month ago whose storage still bills.
    PlantedResource(
        "idle_storage_only", "platform-identity-prod", "rds_r6g_l",
        "arn:aws:rds:us-east-1:318273645500:db:identity-legacy-pg", "24", stops_before_end=STOPPED_DAYS_BEFORE_END,
    ),
    PlantedResource(
        "context", "platform-identity-prod", "rds_storage",
        "arn:aws:rds:us-east-1:318273645500:db:identity-legacy-pg", "16.5",
    ),
    # An instance that runs but does nothing.
    PlantedResource(
        "idle_no_utilisation", "data-lake-prod", "ec2_m6i_xl", "i-0d7e3b5a9c1f24680", "24",
        cpu_average="0.4", cpu_maximum="1.1",
    ),
    # Oversized instances: busy enough to keep, small enough to halve.
    PlantedResource(
        "rightsize_low_cpu", "commerce-storefront-prod", "ec2_c6i_2xl", "i-0a5c7e9b1d3f46802", "24",
        cpu_average="7.5", cpu_maximum="31", memory_average="22",
    ),
    PlantedResource(
        "rightsize_low_cpu", "platform-devtools", "ec2_m6i_xl", "i-0b6d8f0a2c4e57913", "24",
        cpu_average="11.2", cpu_maximum="38",
    ),
    # Steady on-demand cache nodes of a type no reservation covers: worth reserving.
    *(
        PlantedResource(
            "commitment_reserved_instance", "commerce-storefront-prod", "cache_m6g_xl",
            f"arn:aws:elasticache:us-east-1:210987654321:cluster:storefront-sessions-{n:03d}", "24",
        )
        for n in range(1, 5)
    ),
)  # fmt: skip

# Ordinary instances that are busy (average and maximum CPU %): the rightsizing rules must leave them alone.
BUSY_CPU = (("54", "88"), ("61", "93"), ("47", "79"))


def planted_start_end(resource: PlantedResource, days: int) -> tuple[int, int]:
    """First active window day and the day after the last one."""
    return 0, days - resource.stops_before_end


def write_utilisation(path: Path, end_date: dt.date, busy_instances: list[str]) -> Path:
    """Write the generic utilisation CSV for the planted instances and a few busy ordinary ones.

    Args:
        path: File to write.
        end_date: Last day of the window (the last day written).
        busy_instances: Resource ids of ordinary instances, paired in order with BUSY_CPU.

    Returns:
        The path written.
    """
    series: list[tuple[str, str, str, str]] = []
    for resource in PLANTED:
        if resource.cpu_average is not None and resource.cpu_maximum is not None:
            series.append((resource.resource_id, "cpu_utilization", resource.cpu_average, resource.cpu_maximum))
        if resource.memory_average is not None:
            memory = resource.memory_average
            series.append((resource.resource_id, "memory_utilization", memory, memory))
    for resource_id, (average, maximum) in zip(busy_instances, BUSY_CPU, strict=False):
        series.append((resource_id, "cpu_utilization", average, maximum))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(UTILISATION_COLUMNS)
        for offset in range(UTILISATION_DAYS - 1, -1, -1):
            day = (end_date - dt.timedelta(days=offset)).isoformat()
            for resource_id, metric, average, maximum in series:
                writer.writerow((day, "AWS", resource_id, metric, average, maximum))
    return path
