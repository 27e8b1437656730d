"""Where things are: the repository (dbt project), the warehouse file, the demo data."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
WAREHOUSE_ENV = "FINOPS_WAREHOUSE"
DEFAULT_WAREHOUSE = Path("warehouse") / "finops.duckdb"


def warehouse_path(explicit: str | None = None) -> Path:
    """`--warehouse`, else FINOPS_WAREHOUSE, else warehouse/finops.duckdb under the current folder."""
    chosen = explicit or os.environ.get(WAREHOUSE_ENV) or str(DEFAULT_WAREHOUSE)
    return Path(chosen).expanduser().resolve()
