"""Cost Explorer's provisional days in marts.daily_spend, and what happens when the CUR catches up.

A day Cost Explorer has and no export covers shows as provisional; once the CUR brings that account's day,
the provisional figures drop out and the day's totals are the CUR's alone: nothing is counted twice.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import boto3
from conftest import query
from moto import mock_aws
from test_aws_api_loaders import ACCOUNT, _day, _group, load_cost_explorer, queue_cost_pages

from finops_warehouse.dbt import run_dbt
from ingestion.pipeline import run_load

PAYER = "111111111111"
CUR_COLUMNS = (
    "identity/LineItemId", "bill/PayerAccountId", "bill/BillingPeriodStartDate", "bill/BillingPeriodEndDate",
    "lineItem/UsageAccountId", "lineItem/LineItemType", "lineItem/UsageStartDate", "lineItem/UsageEndDate",
    "lineItem/ProductCode", "lineItem/UsageType", "lineItem/UsageAmount", "lineItem/CurrencyCode",
    "lineItem/UnblendedRate", "lineItem/UnblendedCost", "lineItem/LineItemDescription",
)  # fmt: skip
# The CUR's own figures for 2026-11-01: two usage lines of the account Cost Explorer reported early.
CUR_LINES = (
    ("l1", "AmazonEC2", "BoxUsage:m6i.xlarge", "24", "0.192", "4.608"),
    ("l2", "AmazonS3", "TimedStorage-ByteHrs", "50", "0.023", "1.15"),
)


def write_cur_day(folder: Path) -> Path:
    folder.mkdir(parents=True)
    path = folder / "cur-2026-11-00001.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CUR_COLUMNS)
        for line_id, product, usage_type, amount, rate, cost in CUR_LINES:
            writer.writerow(
                (
                    line_id, PAYER, "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", ACCOUNT, "Usage",
                    "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z", product, usage_type, amount, "USD", rate, cost,
                    f"{usage_type} usage",
                )
            )  # fmt: skip
    return folder


def spend(warehouse: Path) -> list[tuple]:
    return query(
        warehouse,
        "select charge_date, is_provisional, sum(billed_cost), sum(effective_cost) from marts.daily_spend "
        "group by all order by all",
    )


def test_a_provisional_day_gives_way_to_the_cur_without_double_counting(warehouse: Path, tmp_path: Path) -> None:
    with mock_aws():
        queue_cost_pages(
            {
                "ResultsByTime": [
                    _day("2026-11-01", [_group(ACCOUNT, "EC2", "4.10", "4.10"), _group(ACCOUNT, "S3", "1", "1")]),
                    _day("2026-11-02", [_group(ACCOUNT, "Amazon EC2", "3.90", "3.50")]),
                ]
            }
        )
        load_cost_explorer(warehouse, boto3.client("ce", region_name="us-east-1"), [], "2026-11-01", "2026-11-03")
    run_dbt(["build", "-s", "+daily_spend"], warehouse, quiet=True)

    assert spend(warehouse) == [
        (dt.date(2026, 11, 1), True, Decimal("5.10"), Decimal("5.10")),
        (dt.date(2026, 11, 2), True, Decimal("3.90"), Decimal("3.50")),
    ]

    run_load("aws-cur", str(write_cur_day(tmp_path / "cur")), warehouse)
    run_dbt(["build", "-s", "+daily_spend"], warehouse, quiet=True)

    cur_total = sum(Decimal(cost) for *_, cost in CUR_LINES)
    assert spend(warehouse) == [
        (dt.date(2026, 11, 1), False, cur_total, cur_total),
        (dt.date(2026, 11, 2), True, Decimal("3.90"), Decimal("3.50")),
    ]
    focus_day = query(
        warehouse,
        "select sum(BilledCost), sum(EffectiveCost) from marts.focus_costs "
        "where cast(ChargePeriodStart as date) = date '2026-11-01'",
    )
    mart_day = query(
        warehouse,
        "select sum(billed_cost), sum(effective_cost) from marts.daily_spend where charge_date = date '2026-11-01'",
    )
    assert mart_day == focus_day == [(cur_total, cur_total)]
