"""dlt source for labelled anomalies: CSV files of known cost anomalies, the ground truth to score detection.

`finops demo` writes the anomalies it injected to `labels/anomalies.csv`; a team can keep its own incident
log in the same format. Labels land in `raw_labels.anomaly_labels`, one row per anomaly_id: loading a label
again replaces it (merge on that key), so a corrected log is simply loaded again.
"""

from __future__ import annotations

from collections.abc import Iterator

import dlt
import pyarrow as pa

from ingestion.anomaly_labels.helpers import KEY, label_batches
from ingestion.duck import connect
from ingestion.files import ExportFile
from ingestion.ledger import Ledger


@dlt.source(name="anomaly_labels")
def anomaly_labels_source(files: list[ExportFile], loaded_at: str, ledger: Ledger) -> dlt.sources.DltResource:
    """The labels in the given files; what happened to each file goes to `ledger`."""
    return anomaly_labels(files, loaded_at, ledger)


@dlt.resource(
    name="anomaly_labels",
    write_disposition={"disposition": "merge", "strategy": "delete-insert"},
    primary_key=KEY,
)
def anomaly_labels(files: list[ExportFile], loaded_at: str, ledger: Ledger) -> Iterator[pa.RecordBatch]:
    yield from label_batches(connect(), files, loaded_at, ledger)
