"""The AWS API loaders (Cost Explorer, CloudWatch) against moto, and the generic utilisation CSV.

moto serves the API calls; a thin wrapper makes the first call of an operation raise ThrottlingException,
as AWS does under load, so the backoff and the page walk after it are exercised. Sleeps are recorded, not
slept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from conftest import query
from moto import mock_aws

from ingestion.aws_api import Backoff
from ingestion.errors import LoadError
from ingestion.pipeline import ApiRequest, run_load

ACCOUNT = "210987654321"
MOTO_RESET = "http://motoapi.amazonaws.com/moto-api/reset"
CE_QUEUE = "http://motoapi.amazonaws.com/moto-api/static/ce/cost-and-usage-results"


class ThrottledOnce:
    """A boto3 client whose first call of `operation` fails with ThrottlingException; records every call."""

    def __init__(self, client: Any, operation: str) -> None:
        self._client = client
        self._operation = operation
        self.calls: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if name != self._operation:
            return method

        def wrapped(**kwargs: Any) -> dict:
            self.calls.append(kwargs)
            if len(self.calls) == 1:
                raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, name)
            return method(**kwargs)

        return wrapped


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _group(account: str, service: str, unblended: str, amortized: str) -> dict:
    return {
        "Keys": [account, service],
        "Metrics": {
            "UnblendedCost": {"Amount": unblended, "Unit": "USD"},
            "AmortizedCost": {"Amount": amortized, "Unit": "USD"},
        },
    }


def _day(day: str, groups: list[dict], estimated: bool = True) -> dict:
    end = (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()
    return {"TimePeriod": {"Start": day, "End": end}, "Total": {}, "Groups": groups, "Estimated": estimated}


def queue_cost_pages(*pages: dict) -> None:
    """moto answers each distinct get_cost_and_usage request with the next queued result."""
    response = requests.post(CE_QUEUE, json={"results": list(pages)}, timeout=10)
    response.raise_for_status()


def _clients(wrapper: ThrottledOnce) -> Callable[[str], Any]:
    return lambda service: wrapper


def load_cost_explorer(warehouse: Path, client: Any, sleeps: list[float], start: str, end: str):
    api = ApiRequest(
        dt.date.fromisoformat(start),
        dt.date.fromisoformat(end),
        clients=lambda service: client,
        backoff=Backoff(sleep=sleeps.append),
    )
    return run_load("aws-cost-explorer", f"ce {start}..{end}", warehouse, api=api)


def test_cost_explorer_retries_a_throttled_first_page_and_follows_next_page_token(aws: None, warehouse: Path) -> None:
    queue_cost_pages(
        {
            "ResultsByTime": [_day("2026-11-01", [_group(ACCOUNT, "Amazon EC2", "10.50", "9.25")])],
            "NextPageToken": "p2",
        },
        {"ResultsByTime": [_day("2026-11-02", [_group(ACCOUNT, "Amazon S3", "1.125", "1.125")])]},
    )
    client = ThrottledOnce(boto3.client("ce", region_name="us-east-1"), "get_cost_and_usage")
    sleeps: list[float] = []

    report = load_cost_explorer(warehouse, client, sleeps, "2026-11-01", "2026-11-03")

    assert sleeps == [1.0]
    assert len(client.calls) == 3
    assert "NextPageToken" not in client.calls[1] and client.calls[2]["NextPageToken"] == "p2"
    assert client.calls[1]["GroupBy"] == [
        {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"},
        {"Type": "DIMENSION", "Key": "SERVICE"},
    ]
    assert report.rows_loaded == {"costs": 2}
    rows = query(
        warehouse,
        "select period_start, account_id, group_value, unblended_cost, amortized_cost, is_estimated "
        "from raw_aws_cost_explorer.costs order by period_start",
    )
    assert rows == [
        ("2026-11-01", ACCOUNT, "Amazon EC2", "10.50", "9.25", True),
        ("2026-11-02", ACCOUNT, "Amazon S3", "1.125", "1.125", True),
    ]


def test_cost_explorer_rerun_of_a_window_replaces_it(aws: None, warehouse: Path) -> None:
    first = [_group(ACCOUNT, "Amazon EC2", "10.50", "9.25"), _group(ACCOUNT, "Amazon S3", "2", "2")]
    queue_cost_pages({"ResultsByTime": [_day("2026-11-01", first)]})
    client = boto3.client("ce", region_name="us-east-1")
    load_cost_explorer(warehouse, client, [], "2026-11-01", "2026-11-02")
    # moto repeats its answer for a request it has seen; a reset backend gives the rerun a new one.
    requests.post(MOTO_RESET, timeout=10).raise_for_status()
    queue_cost_pages({"ResultsByTime": [_day("2026-11-01", [_group(ACCOUNT, "Amazon EC2", "12.00", "11")])]})
    load_cost_explorer(warehouse, boto3.client("ce", region_name="us-east-1"), [], "2026-11-01", "2026-11-02")

    rows = query(warehouse, "select group_value, unblended_cost from raw_aws_cost_explorer.costs")
    assert rows == [("Amazon EC2", "12.00")]


def test_cost_explorer_group_that_is_not_a_cost_is_rejected_naming_request_and_line(aws: None, warehouse: Path) -> None:
    groups = [_group(ACCOUNT, "Amazon EC2", "3", "3"), _group(ACCOUNT, "Amazon S3", "n/a", "1")]
    queue_cost_pages({"ResultsByTime": [_day("2026-11-01", groups)]})
    load_cost_explorer(warehouse, boto3.client("ce", region_name="us-east-1"), [], "2026-11-01", "2026-11-02")

    rejected = query(warehouse, "select file, line_number, reason, raw_text from meta.rejected_rows")
    assert len(rejected) == 1
    file, line, reason, raw_text = rejected[0]
    assert file == "aws-cost-explorer DAILY 2026-11-01..2026-11-02 by LINKED_ACCOUNT,SERVICE"
    assert line == 2 and reason == "UnblendedCost amount 'n/a' is not a number" and "Amazon S3" in raw_text
    assert query(warehouse, "select count(*) from raw_aws_cost_explorer.costs") == [(1,)]


def test_throttling_that_never_ends_is_a_clear_error() -> None:
    sleeps: list[float] = []

    def always_throttled(**_: Any) -> dict:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "GetCostAndUsage")

    from ingestion.aws_api import call

    with pytest.raises(LoadError, match="still throttled after 4 attempts"):
        call(always_throttled, Backoff(attempts=4, sleep=sleeps.append), "aws-cost-explorer test")
    assert sleeps == [1.0, 2.0, 4.0]


def _put_daily(cloudwatch: Any, namespace: str, name: str, instance: str, values: list[tuple[int, float]]) -> None:
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": name,
                "Dimensions": [{"Name": "InstanceId", "Value": instance}],
                "Timestamp": start + dt.timedelta(days=day, hours=hour),
                "Value": value,
            }
            for day, (hour, value) in enumerate(values)
        ]
        + [
            {
                "MetricName": name,
                "Dimensions": [{"Name": "InstanceId", "Value": instance}],
                "Timestamp": start + dt.timedelta(days=day, hours=hour + 1),
                "Value": value + 10,
            }
            for day, (hour, value) in enumerate(values)
        ],
    )


def test_cloudwatch_reads_daily_cpu_and_memory_after_a_throttled_call(aws: None, warehouse: Path) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    _put_daily(cloudwatch, "AWS/EC2", "CPUUtilization", "i-0aaa", [(3, 4.0), (5, 6.0)])
    _put_daily(cloudwatch, "AWS/EC2", "CPUUtilization", "i-0bbb", [(3, 60.0), (5, 70.0)])
    _put_daily(cloudwatch, "CWAgent", "mem_used_percent", "i-0aaa", [(3, 20.0), (5, 22.0)])
    client = ThrottledOnce(cloudwatch, "get_metric_data")
    sleeps: list[float] = []
    api = ApiRequest(
        dt.date(2026, 11, 1), dt.date(2026, 11, 3), clients=_clients(client), backoff=Backoff(sleep=sleeps.append)
    )

    run_load("aws-cloudwatch", "cloudwatch", warehouse, api=api)

    assert sleeps == [1.0] and len(client.calls) == 2
    assert len(client.calls[1]["MetricDataQueries"]) == 6  # three metrics x (Average, Maximum)
    rows = query(
        warehouse,
        "select resource_id, metric, metric_date, average, maximum from raw_aws_cloudwatch.metrics order by all",
    )
    assert rows == [
        ("i-0aaa", "cpu_utilization", "2026-11-01", "9.0000", "14.0000"),
        ("i-0aaa", "cpu_utilization", "2026-11-02", "11.0000", "16.0000"),
        ("i-0aaa", "memory_utilization", "2026-11-01", "25.0000", "30.0000"),
        ("i-0aaa", "memory_utilization", "2026-11-02", "27.0000", "32.0000"),
        ("i-0bbb", "cpu_utilization", "2026-11-01", "65.0000", "70.0000"),
        ("i-0bbb", "cpu_utilization", "2026-11-02", "75.0000", "80.0000"),
    ]


def test_utilisation_csv_rejects_bad_rows_naming_line_and_problem(warehouse: Path, tmp_path: Path) -> None:
    path = tmp_path / "utilisation.csv"
    path.write_text(
        "date,provider,resource_id,metric,average,maximum\n"
        "2026-11-01,Google Cloud,projects/p/zones/z/instances/web-1,cpu_utilization,12.5,40\n"
        "2026-11-01,Google Cloud,projects/p/zones/z/instances/web-2,cpu_utilization,120,130\n"
        "2026-11-01,Microsoft,vm-3,disk_utilization,1,2\n"
        "2026-11-31,Microsoft,vm-4,cpu_utilization,1,2\n",
        encoding="utf-8",
    )
    run_load("utilisation", str(path), warehouse)

    assert query(warehouse, "select resource_id, average from raw_utilisation.metrics") == [
        ("projects/p/zones/z/instances/web-1", "12.5")
    ]
    rejected = query(warehouse, "select file, line_number, reason from meta.rejected_rows order by line_number")
    assert [(line, reason) for _, line, reason in rejected] == [
        (3, "average is not a percentage from 0 to 100"),
        (4, "metric is not one of cpu_utilization, memory_utilization"),
        (5, "date is not a date (YYYY-MM-DD)"),
    ]
    assert all(file.endswith("utilisation.csv") for file, _, _ in rejected)
    assert Decimal("12.5") == Decimal(query(warehouse, "select average from raw_utilisation.metrics")[0][0])


def test_the_command_line_asks_for_the_window_or_the_path(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from finops_warehouse.cli import main

    runner = CliRunner()
    warehouse = str(tmp_path / "w.duckdb")
    no_window = runner.invoke(main, ["--warehouse", warehouse, "load", "aws-cost-explorer", "--start", "2026-11-01"])
    no_path = runner.invoke(main, ["--warehouse", warehouse, "load", "utilisation"])
    backwards = runner.invoke(
        main, ["--warehouse", warehouse, "load", "aws-cloudwatch", "--start", "2026-11-02", "--end", "2026-11-01"]
    )

    assert no_window.exit_code == 1 and "aws-cost-explorer needs --start and --end" in no_window.output
    assert no_path.exit_code == 1 and "utilisation needs PATH_OR_URL" in no_path.output
    assert backwards.exit_code == 1 and "--end 2026-11-01 must be after --start 2026-11-02" in backwards.output
