"""dlt source for AWS utilisation from CloudWatch: daily CPU per EC2 instance, and memory where published.

`CPUUtilization` (namespace AWS/EC2) exists for every instance; memory only where the CloudWatch agent
publishes `mem_used_percent` (namespace CWAgent). The loader lists those metrics, asks `get_metric_data`
for each one's daily Average and Maximum over the window (500 queries a call, NextToken pages, backoff on
throttling) and writes `raw_aws_cloudwatch.metrics`, one row per instance, metric and day: loading a day
again replaces it. The rows have the shape of the generic utilisation CSV (`ingestion/utilisation`).
"""

from __future__ import annotations

from collections.abc import Iterator

import dlt

from ingestion.aws_api import Backoff, ClientFactory
from ingestion.aws_cloudwatch.helpers import KEY, MetricWindow, metric_rows
from ingestion.ledger import Ledger


@dlt.source(name="aws_cloudwatch")
def aws_cloudwatch_source(
    window: MetricWindow, clients: ClientFactory, backoff: Backoff, loaded_at: str, ledger: Ledger
) -> dlt.sources.DltResource:
    """Daily utilisation of every instance with metrics in `window`; requests are logged in `ledger`."""
    return metrics(window, clients, backoff, loaded_at, ledger)


@dlt.resource(
    name="metrics",
    write_disposition={"disposition": "merge", "strategy": "delete-insert"},
    primary_key=KEY,
)
def metrics(
    window: MetricWindow, clients: ClientFactory, backoff: Backoff, loaded_at: str, ledger: Ledger
) -> Iterator[dict]:
    yield from metric_rows(clients("cloudwatch"), window, backoff, loaded_at, ledger)
