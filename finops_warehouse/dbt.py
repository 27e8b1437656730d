"""Run dbt in-process against the project in this repository, on the warehouse the CLI uses."""

from __future__ import annotations

import os
from pathlib import Path

from finops_warehouse.paths import PROJECT_DIR, WAREHOUSE_ENV


class DbtFailed(Exception):
    """A dbt command finished with failures; the message names the failing nodes."""


def run_dbt(args: list[str], warehouse: Path, quiet: bool = False) -> None:
    """Run `dbt <args>` with the committed profiles.yml, pointing the dev target at `warehouse`."""
    from dbt.cli.main import dbtRunner

    os.environ[WAREHOUSE_ENV] = str(warehouse)
    base = ["--no-use-colors", *(["--quiet"] if quiet else [])]
    full = [*base, *args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    result = dbtRunner().invoke(full)
    if result.success:
        return
    if result.exception is not None:
        raise DbtFailed(f"dbt {' '.join(args)} failed: {result.exception}")
    failed = [
        r.node.name
        for r in (result.result or [])
        if getattr(r, "status", None) in ("error", "fail") and getattr(r, "node", None) is not None
    ]
    raise DbtFailed(f"dbt {' '.join(args)} failed in: {', '.join(failed) or 'see the log above'}")
