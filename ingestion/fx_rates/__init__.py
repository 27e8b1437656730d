"""dlt source for exchange rates: CSV files of `rate_date, from_currency, to_currency, rate`.

Rates land in `raw_fx.rates`, one row per (rate_date, from_currency, to_currency): loading a rate again
replaces it (merge on that key), so a corrected file or a longer history is simply loaded again. dbt uses
these rates before the `fx_rates` seed for the dates they cover (models/intermediate/fx).
"""

from __future__ import annotations

from collections.abc import Iterator

import dlt
import pyarrow as pa

from ingestion.duck import connect
from ingestion.files import ExportFile
from ingestion.fx_rates.helpers import KEY, rate_batches
from ingestion.ledger import Ledger


@dlt.source(name="fx_rates")
def fx_rates_source(files: list[ExportFile], loaded_at: str, ledger: Ledger) -> dlt.sources.DltResource:
    """The rates in the given files; what happened to each file goes to `ledger`."""
    return rates(files, loaded_at, ledger)


@dlt.resource(
    name="rates",
    write_disposition={"disposition": "merge", "strategy": "delete-insert"},
    primary_key=KEY,
)
def rates(files: list[ExportFile], loaded_at: str, ledger: Ledger) -> Iterator[pa.RecordBatch]:
    yield from rate_batches(connect(), files, loaded_at, ledger)
