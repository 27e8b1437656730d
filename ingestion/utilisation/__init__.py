"""dlt source for resource utilisation: the generic CSV of daily CPU and memory per resource.

Any cloud (or an agent, or an export from a monitoring tool) can provide it: `date, provider, resource_id,
metric, average, maximum`, one row per resource, metric and day, with `metric` one of `cpu_utilization`
and `memory_utilization` and the values in percent. Rows land in `raw_utilisation.metrics`, one per
(provider, resource_id, metric, metric_date): loading a day again replaces it. AWS utilisation can come
straight from CloudWatch instead (`ingestion/aws_cloudwatch`); the rightsizing models read both.
"""

from __future__ import annotations

from collections.abc import Iterator

import dlt
import pyarrow as pa

from ingestion.duck import connect
from ingestion.files import ExportFile
from ingestion.ledger import Ledger
from ingestion.utilisation.helpers import KEY, metric_batches


@dlt.source(name="utilisation")
def utilisation_source(files: list[ExportFile], loaded_at: str, ledger: Ledger) -> dlt.sources.DltResource:
    """The utilisation rows in the given files; what happened to each file goes to `ledger`."""
    return metrics(files, loaded_at, ledger)


@dlt.resource(
    name="metrics",
    write_disposition={"disposition": "merge", "strategy": "delete-insert"},
    primary_key=KEY,
)
def metrics(files: list[ExportFile], loaded_at: str, ledger: Ledger) -> Iterator[pa.RecordBatch]:
    yield from metric_batches(connect(), files, loaded_at, ledger)
