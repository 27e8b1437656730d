"""Where the loaders write: the local DuckDB warehouse file by default, or Snowflake in production.

`FINOPS_DESTINATION=snowflake` switches every loader, and the `meta` load log, to dlt's Snowflake
destination. dlt then reads the credentials the same way the dbt `snowflake` target does, from the
environment (`DESTINATION__SNOWFLAKE__CREDENTIALS__HOST`, `__DATABASE`, `__USERNAME`, `__ROLE`,
`__WAREHOUSE`, and `__PRIVATE_KEY_PATH` with `__PRIVATE_KEY_PASSPHRASE`, or `__PASSWORD`) or from
`.dlt/secrets.toml`. The local warehouse path still anchors dlt's working state and the pseudonymisation key.
"""

from __future__ import annotations

import os
from pathlib import Path

import dlt
from dlt.common.destination import Destination

from ingestion.errors import LoadError

DESTINATION_ENV = "FINOPS_DESTINATION"
DESTINATIONS = ("duckdb", "snowflake")


def destination_name() -> str:
    """The destination FINOPS_DESTINATION names; DuckDB when it is unset."""
    chosen = (os.environ.get(DESTINATION_ENV) or "duckdb").strip().lower()
    if chosen not in DESTINATIONS:
        expected = ", ".join(DESTINATIONS)
        raise LoadError(f"{DESTINATION_ENV}={chosen!r} is not a destination; expected one of: {expected}")
    return chosen


def warehouse_destination(warehouse: Path) -> Destination:
    """The dlt destination every pipeline of this warehouse writes to."""
    if destination_name() == "snowflake":
        return dlt.destinations.snowflake()
    return dlt.destinations.duckdb(credentials=str(warehouse))
