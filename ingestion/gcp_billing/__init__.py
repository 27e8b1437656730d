"""dlt source for the GCP Cloud Billing export (standard or detailed), as JSON lines or Parquet.

Rows land in `raw_gcp_billing.billing_export` with records flattened one level (`service_description`,
`invoice_month`) and repeated fields (credits, labels) as JSON text. An extract replaces every row of the
invoice months it covers (merge key `_billing_partition` = billing account | invoice month), which is
how late adjustments to an earlier invoice month arrive without double counting.
"""

from __future__ import annotations

from collections.abc import Iterator

import dlt
import pyarrow as pa

from ingestion.delivery import Delivery, LoadState, delivery_batches
from ingestion.duck import connect
from ingestion.gcp_billing.helpers import GcpDelivery, delivery_spec
from ingestion.ledger import Ledger


@dlt.source(name="gcp_billing")
def gcp_billing_source(deliveries: list[GcpDelivery], ledger: Ledger, state: LoadState) -> dlt.sources.DltResource:
    """The billing-export rows of the given extracts; what happened to each file goes to `ledger`."""
    return billing_export(deliveries, ledger, state)


@dlt.resource(
    name="billing_export",
    write_disposition={"disposition": "merge", "strategy": "delete-insert"},
    merge_key="_billing_partition",
)
def billing_export(deliveries: list[GcpDelivery], ledger: Ledger, state: LoadState) -> Iterator[pa.RecordBatch]:
    con = connect()
    spec = delivery_spec()
    for extract in deliveries:
        delivery = Delivery(extract.files, extract.delivery_id, extract.delivered_at)
        yield from delivery_batches(con, ledger, delivery, spec, state)
