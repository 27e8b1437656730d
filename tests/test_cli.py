"""The `finops` command line as a user runs it: one-line errors, loads, build, export."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
from conftest import SAMPLES

FINOPS = [sys.executable, "-m", "finops_warehouse.cli"]


def finops(*args: str, warehouse: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*FINOPS, "--warehouse", str(warehouse), *args], capture_output=True, text=True, check=False)


def test_a_user_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    result = finops("load", "gcp", str(tmp_path / "nowhere"), warehouse=tmp_path / "w.duckdb")
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 1
    assert "Traceback" not in output
    assert output.splitlines() == [f"error: {tmp_path / 'nowhere'}: no such file or folder"]


def test_unknown_source_is_rejected(tmp_path: Path) -> None:
    result = finops("load", "oracle", str(tmp_path), warehouse=tmp_path / "w.duckdb")
    assert result.returncode == 2
    assert "Invalid value for" in result.stderr


def test_load_build_and_export_the_real_samples(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    for source, folder in (("aws-cur", "aws"), ("azure", "azure")):
        result = finops("load", source, str(SAMPLES / folder), warehouse=warehouse)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"loaded {source}:" in result.stdout
    built = finops("build", warehouse=warehouse)
    assert built.returncode == 0, built.stdout[-3000:]
    assert "dbt build passed" in built.stdout

    parquet, csv_file = tmp_path / "focus.parquet", tmp_path / "focus.csv"
    assert finops("export", "focus", str(parquet), warehouse=warehouse).returncode == 0
    assert finops("export", "focus", str(csv_file), warehouse=warehouse).returncode == 0
    table = pq.read_table(parquet)
    assert table.num_rows == 1281 + 29 + 27
    assert str(table.schema.field("BilledCost").type) == "decimal128(38, 12)"
    assert str(table.schema.field("ChargePeriodStart").type) == "timestamp[us, tz=UTC]"
    first_line = csv_file.read_text().splitlines()[1]
    assert "T00:00:00Z" in first_line

    bad = finops("export", "focus", str(tmp_path / "focus.xlsx"), warehouse=warehouse)
    assert bad.returncode == 1
    assert "unknown export format .xlsx" in bad.stdout


def test_build_fails_loudly_when_a_reconciliation_breaks(tmp_path: Path) -> None:
    """The reconciliation test can fail: tamper with one FOCUS row and the build's test step says so."""
    warehouse = tmp_path / "w.duckdb"
    assert finops("load", "aws-cur", str(SAMPLES / "aws"), warehouse=warehouse).returncode == 0
    assert finops("build", warehouse=warehouse).returncode == 0
    with duckdb.connect(str(warehouse)) as con:
        con.execute("update marts.focus_costs set BilledCost = BilledCost + 0.000000000001 where x_SourceLine = 2")
    result = finops("build", "--select", "test_type:singular", warehouse=warehouse)
    assert result.returncode == 1
    assert "reconcile_billed_cost_to_raw_invoices" in result.stdout
