"""Shared fixtures: real sample exports, fresh warehouses, and one demo warehouse built per session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLES = REPO_ROOT / "tests" / "fixtures" / "samples"
DEMO_END_DATE = date(2026, 10, 31)


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "warehouse" / "finops.duckdb"
    monkeypatch.setenv("FINOPS_WAREHOUSE", str(path))
    monkeypatch.setenv("RUNTIME__LOG_LEVEL", "ERROR")
    return path


def query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(sql).fetchall()


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """The default demo (90 days, small scale, fixed end date), generated, loaded and built once."""
    from finops_warehouse.cli import DEMO_LAYOUT
    from finops_warehouse.dbt import run_dbt
    from finops_warehouse.demo import generate_demo
    from ingestion.pipeline import run_load

    root = tmp_path_factory.mktemp("demo")
    path = root / "warehouse" / "finops.duckdb"
    previous = os.environ.get("FINOPS_WAREHOUSE")
    os.environ["FINOPS_WAREHOUSE"] = str(path)
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")
    out = root / "demo_data"
    generate_demo(out, days=90, seed=42, scale="small", end_date=DEMO_END_DATE)
    for source, folder in DEMO_LAYOUT.items():
        run_load(source, str(out / folder), path)
    run_dbt(["build"], path, quiet=True)
    yield path, out
    if previous is None:
        os.environ.pop("FINOPS_WAREHOUSE", None)
    else:
        os.environ["FINOPS_WAREHOUSE"] = previous
    shutil.rmtree(root, ignore_errors=True)
