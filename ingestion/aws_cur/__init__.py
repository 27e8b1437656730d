"""dlt source for AWS billing exports: legacy CUR (CSV, with or without manifests), CUR 2.0 Parquet, and
AWS's FOCUS 1.0 data export.

Both CUR layouts land in one table, `raw_aws_cur.line_items`, in the CUR 2.0 shape: snake_case columns,
`product` and `resource_tags` as JSON objects. The FOCUS export lands in `raw_aws_cur.focus_line_items`.
A delivery replaces every row of the billing periods it covers (merge key `_billing_partition` =
payer account | billing period), so AWS re-delivering a month never double counts.
"""

from __future__ import annotations

from collections.abc import Iterator

import dlt
import pyarrow as pa

from ingestion.aws_cur.helpers import CurDelivery, spec_for
from ingestion.delivery import Delivery, LoadState, delivery_batches
from ingestion.duck import connect
from ingestion.ledger import Ledger


@dlt.source(name="aws_cur")
def aws_cur_source(
    deliveries: list[CurDelivery], ledger: Ledger, state: LoadState
) -> tuple[dlt.sources.DltResource, ...]:
    """CUR line items, and FOCUS 1.0 export rows, of the given deliveries; each file's fate goes to `ledger`."""
    cur = [d for d in deliveries if d.layout != "focus_1_0"]
    focus = [d for d in deliveries if d.layout == "focus_1_0"]
    return line_items(cur, ledger, state), focus_line_items(focus, ledger, state)


@dlt.resource(
    name="line_items",
    write_disposition={"disposition": "merge", "strategy": "delete-insert"},
    merge_key="_billing_partition",
)
def line_items(deliveries: list[CurDelivery], ledger: Ledger, state: LoadState) -> Iterator[pa.RecordBatch]:
    yield from _deliveries(deliveries, ledger, state)


@dlt.resource(
    name="focus_line_items",
    write_disposition={"disposition": "merge", "strategy": "delete-insert"},
    merge_key="_billing_partition",
)
def focus_line_items(deliveries: list[CurDelivery], ledger: Ledger, state: LoadState) -> Iterator[pa.RecordBatch]:
    """AWS's own FOCUS 1.0 export (Data Exports), in its own table: already FOCUS, not CUR-shaped."""
    yield from _deliveries(deliveries, ledger, state)


def _deliveries(deliveries: list[CurDelivery], ledger: Ledger, state: LoadState) -> Iterator[pa.RecordBatch]:
    con = connect()
    for cur in deliveries:
        delivery_id = None if cur.delivery_id.startswith("folder:") else cur.delivery_id
        delivery = Delivery(cur.files, delivery_id, cur.delivered_at)
        yield from delivery_batches(con, ledger, delivery, spec_for(cur.layout), state)
