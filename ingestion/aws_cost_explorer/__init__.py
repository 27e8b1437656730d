"""dlt source for AWS Cost Explorer: `get_cost_and_usage` for a window, the early and provisional signal.

The CUR lands hours to a day behind; Cost Explorer already has today's (estimated) spend. The loader asks
for UnblendedCost and AmortizedCost per linked account and service (and per linked account and tag value
for each tag key asked for), daily or hourly, following NextPageToken with backoff on throttling. Rows land
in `raw_aws_cost_explorer.costs`; a rerun for the same window replaces each of its periods (merge on
granularity, grouping and period start), so loading a window again never adds to it.

These rows never enter `marts.focus_costs`: `marts.daily_spend` shows them, flagged provisional, only for
the (account, day) pairs the CUR does not cover yet.
"""

from __future__ import annotations

from collections.abc import Iterator

import dlt

from ingestion.aws_api import Backoff, ClientFactory
from ingestion.aws_cost_explorer.helpers import MERGE_KEY, CostWindow, cost_rows
from ingestion.ledger import Ledger


@dlt.source(name="aws_cost_explorer")
def aws_cost_explorer_source(
    window: CostWindow, clients: ClientFactory, backoff: Backoff, loaded_at: str, ledger: Ledger
) -> dlt.sources.DltResource:
    """Cost Explorer spend for `window`; each request is logged in `ledger` like a file."""
    return costs(window, clients, backoff, loaded_at, ledger)


@dlt.resource(
    name="costs",
    write_disposition={"disposition": "merge", "strategy": "delete-insert"},
    merge_key=MERGE_KEY,
    columns={"is_estimated": {"data_type": "bool"}, "_line_number": {"data_type": "bigint"}},
)
def costs(
    window: CostWindow, clients: ClientFactory, backoff: Backoff, loaded_at: str, ledger: Ledger
) -> Iterator[dict]:
    yield from cost_rows(clients("ce"), window, backoff, loaded_at, ledger)
