"""dlt source for AWS Cost and Usage Reports: legacy CUR (CSV, with or without manifests) and CUR 2.0 Parquet.

Both layouts land in one table, `raw_aws_cur.line_items`, in the CUR 2.0 shape: snake_case columns,
`product` and `resource_tags` as JSON objects. A delivery replaces every row of the billing periods it
covers (merge key `_billing_partition` = payer account | billing period), so AWS re-delivering a month
never double counts.
"""

from __future__ import annotations

from collections.abc import Iterator

import dlt
import pyarrow as pa

from ingestion.aws_cur.helpers import CurDelivery, spec_for
from ingestion.delivery import delivery_batches
from ingestion.duck import connect
from ingestion.ledger import Ledger


@dlt.source(name="aws_cur")
def aws_cur_source(
    deliveries: list[CurDelivery], loaded_at: str, ledger: Ledger, current_hashes: set[str]
) -> dlt.sources.DltResource:
    """The CUR line items of the given deliveries; what happened to each file goes to `ledger`."""
    return line_items(deliveries, loaded_at, ledger, current_hashes)


@dlt.resource(
    name="line_items",
    write_disposition={"disposition": "merge", "strategy": "delete-insert"},
    merge_key="_billing_partition",
)
def line_items(
    deliveries: list[CurDelivery], loaded_at: str, ledger: Ledger, current_hashes: set[str]
) -> Iterator[pa.RecordBatch]:
    con = connect()
    for delivery in deliveries:
        delivery_id = None if delivery.delivery_id.startswith("folder:") else delivery.delivery_id
        spec = spec_for(delivery.layout)
        yield from delivery_batches(con, ledger, delivery.files, delivery_id, spec, loaded_at, current_hashes)
