"""dlt source for Azure Cost Management cost-details exports (EA and MCA; actual and amortized).

Both agreement layouts land in `raw_azure_cost.cost_details` with snake_case names (EA `Cost` and MCA
`costInBillingCurrency` stay distinct columns; staging picks whichever is present). Each run replaces every
row of the billing periods it covers, per dataset (merge key `_billing_partition` =
dataset | billing account | billing period | export scope), so a month-to-date export run never double counts.
"""

from __future__ import annotations

from collections.abc import Iterator

import dlt
import pyarrow as pa

from ingestion.azure_cost.helpers import AzureDelivery, spec_for
from ingestion.delivery import Delivery, LoadState, delivery_batches
from ingestion.duck import connect
from ingestion.ledger import Ledger


@dlt.source(name="azure_cost")
def azure_cost_source(deliveries: list[AzureDelivery], ledger: Ledger, state: LoadState) -> dlt.sources.DltResource:
    """The cost-details rows of the given export runs; what happened to each file goes to `ledger`."""
    return cost_details(deliveries, ledger, state)


@dlt.resource(
    name="cost_details",
    write_disposition={"disposition": "merge", "strategy": "delete-insert"},
    merge_key="_billing_partition",
)
def cost_details(deliveries: list[AzureDelivery], ledger: Ledger, state: LoadState) -> Iterator[pa.RecordBatch]:
    con = connect()
    for run in deliveries:
        delivery = Delivery(run.files, run.delivery_id or None, run.delivered_at)
        yield from delivery_batches(con, ledger, delivery, spec_for(run.dataset, run.scope), state)
