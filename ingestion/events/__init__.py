"""dlt sources for business events (transactions, active users, API calls, and user-declared types), from
files (JSON lines, CSV) or from an HTTP API.

Events land in `raw_events.business_events`, deduplicated on `event_id` (a re-sent event replaces its
earlier copy). Personal fields are pseudonymised before the rows leave this process.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dlt
import pyarrow as pa

from ingestion.duck import connect
from ingestion.events.api import api_events
from ingestion.events.helpers import event_batches, pseudonymisation_key
from ingestion.files import ExportFile
from ingestion.ledger import Ledger


@dlt.source(name="events")
def business_events_source(
    files: list[ExportFile], loaded_at: str, secrets_dir: Path, ledger: Ledger
) -> dlt.sources.DltResource:
    """The events in the given files; what happened to each file goes to `ledger`."""
    return business_events(files, loaded_at, pseudonymisation_key(secrets_dir), ledger)


@dlt.resource(
    name="business_events",
    write_disposition={"disposition": "merge", "strategy": "delete-insert"},
    primary_key="event_id",
)
def business_events(files: list[ExportFile], loaded_at: str, key: str, ledger: Ledger) -> Iterator[pa.RecordBatch]:
    yield from event_batches(connect(), files, loaded_at, key, ledger)


@dlt.source(name="events")
def business_events_api_source(url: str, loaded_at: str, secrets_dir: Path, ledger: Ledger) -> dlt.sources.DltResource:
    """The events the API at `url` has published since the last load (minus the late-arrival window)."""
    resource = dlt.resource(
        api_events,
        name="business_events",
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        primary_key="event_id",
    )
    return resource(url, loaded_at, pseudonymisation_key(secrets_dir), ledger)
