"""Run dbt in-process against the project in this repository, on the warehouse the CLI uses."""

from __future__ import annotations

import os
from pathlib import Path

from finops_warehouse.paths import PROJECT_DIR, WAREHOUSE_ENV


class DbtFailed(Exception):
    """A dbt command finished with failures; the message names the failing nodes."""


def run_dbt(args: list[str], warehouse: Path, quiet: bool = False) -> list[str]:
    """Run `dbt <args>` with the committed profiles.yml, pointing the dev target at `warehouse`.

    Returns:
        The unique ids of the nodes dbt ran (`model.finops_warehouse.focus_costs`, tests, seeds), in order.
    """
    from dbt.cli.main import dbtRunner

    os.environ[WAREHOUSE_ENV] = str(warehouse)
    base = ["--no-use-colors", *(["--quiet"] if quiet else [])]
    full = [*base, *args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    try:
        result = dbtRunner().invoke(full)
    finally:
        _release_warehouse()
    if result.success:
        return [r.node.unique_id for r in (result.result or []) if getattr(r, "node", None) is not None]
    if result.exception is not None:
        raise DbtFailed(f"dbt {' '.join(args)} failed: {result.exception}")
    failed = [
        r.node.name
        for r in (result.result or [])
        if getattr(r, "status", None) in ("error", "fail") and getattr(r, "node", None) is not None
    ]
    raise DbtFailed(f"dbt {' '.join(args)} failed in: {', '.join(failed) or 'see the log above'}")


def _release_warehouse() -> None:
    """Close the DuckDB database dbt-duckdb keeps open for the life of the process.

    dbt-duckdb caches one read-write database per process. Until it is closed, this process cannot open
    the same file read-only (the summary, the export, the dashboard's queries), and no other process can
    open it at all. dbt offers no public call for this, so the adapter's cached environment is closed here.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:
        return
    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None
