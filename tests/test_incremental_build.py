"""Incremental builds: a newer delivery of one billing period rebuilds that period only, and the result
equals a full rebuild.

One small demo (28 days across a month end: two billing periods per provider, and two weeks of anomaly
scores after the detector's minimum history) is loaded and built once;
each test works on a copy, restates one invoice by changing one line item's cost in a newer delivery (a new
Azure export run, CUR assembly or GCP extract), loads it, and builds again. A row the build did not write
again keeps a marker put into it beforehand.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import shutil
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import query

from finops_warehouse.dbt import run_dbt
from finops_warehouse.demo import generate_demo
from ingestion.pipeline import run_load

END_DATE = date(2026, 10, 6)
RESTATEMENT = Decimal("1.25")
MARKER = " (before the rebuild)"
# Incremental models and the columns the marker goes into: a row still carrying it was not rebuilt.
MARKED = {
    "marts.focus_costs": ("x_DeliveryId", "x_BillingPeriodKey"),
    "intermediate.int_gcp_billing__focus_mapped": ("x_DeliveryId", "x_BillingPeriodKey"),
}
# Incremental models compared with a full rebuild: the marked ones, and the anomaly scores, which resume at
# each series' first changed day. (The forecast backtest is kept for a week by design, so it is not.)
COMPARED = [*MARKED, "intermediate.int_anomaly__scored"]
AZURE_OCTOBER = "azure|8a3f2c1e-5b7d-4e90-a1c2-3d4e5f607182:0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9_2019-05-31|2026-10"
AWS_SEPTEMBER = "aws|111111111111|2026-09"
GCP_SEPTEMBER = "gcp|01AB23-45CD67-89EF01|202609"


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("incremental") / "demo_data"
    generate_demo(out, days=28, seed=11, scale="small", end_date=END_DATE)
    return out


@pytest.fixture(scope="module")
def built(demo_data: Path) -> Iterator[Path]:
    """The demo loaded and fully built once; tests copy the folder (warehouse and dlt state)."""
    warehouse = demo_data.parent / "built" / "finops.duckdb"
    for source, folder in (("aws-cur", "aws"), ("azure", "azure"), ("gcp", "gcp")):
        run_load(source, str(demo_data / folder), warehouse)
    run_dbt(["build"], warehouse, quiet=True)
    yield warehouse


@pytest.fixture
def warehouse(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "warehouse"
    shutil.copytree(built.parent, copy)
    monkeypatch.setenv("FINOPS_WAREHOUSE", str(copy / built.name))
    monkeypatch.setenv("RUNTIME__LOG_LEVEL", "ERROR")
    return copy / built.name


def period_totals(warehouse: Path) -> dict[str, tuple]:
    rows = query(
        warehouse,
        "select x_BillingPeriodKey, count(*), sum(BilledCost), sum(EffectiveCost), "
        "sum(x_BilledCostInReportingCurrency), max(x_LoadedAt) from marts.focus_costs group by 1",
    )
    return {key: tuple(values) for key, *values in rows}


def mark_every_row(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse)) as con:
        for table, (column, _) in MARKED.items():
            con.execute(f"update {table} set {column} = {column} || '{MARKER}'")


def rebuilt_periods(warehouse: Path) -> dict[str, set[str]]:
    """Per incremental model, the periods whose rows were written again (lost the marker)."""
    result = {}
    for table, (column, key) in MARKED.items():
        rows = query(warehouse, f"select distinct {key} from {table} where not ends_with({column}, '{MARKER}')")
        result[table] = {period for (period,) in rows}
    return result


def strip_markers(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse)) as con:
        for table, (column, _) in MARKED.items():
            con.execute(f"update {table} set {column} = replace({column}, '{MARKER}', '')")


def snapshot(warehouse: Path) -> None:
    """Copies of the incremental models, to compare with a full rebuild of the same raw data."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists snapshot")
        for table in COMPARED:
            con.execute(f"create or replace table snapshot.{table.split('.')[1]} as select * from {table}")


def differences_from_snapshot(warehouse: Path) -> dict[str, int]:
    differences = {}
    for table in COMPARED:
        copy = f"snapshot.{table.split('.')[1]}"
        rows = query(
            warehouse,
            f"select (select count(*) from (select * from {table} except all select * from {copy})) "
            f"+ (select count(*) from (select * from {copy} except all select * from {table}))",
        )
        differences[table] = rows[0][0]
    return differences


def restated_csv(source: Path, target: Path, cost_column: str) -> None:
    """The CSV (gzip) with the first data row's cost raised by RESTATEMENT; every other value as it was."""
    with gzip.open(source, "rt", newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    column = rows[0].index(cost_column)
    rows[1][column] = str(Decimal(rows[1][column]) + RESTATEMENT)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    target.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(target, "wt", newline="", encoding="utf-8") as handle:
        handle.write(buffer.getvalue())


def restated_azure_run(demo_data: Path, out: Path) -> Path:
    """A newer actual-cost export run of October: the amortized export of October stays as loaded."""
    period = "azure/exports/finops-demo-actual/20261001-20261031"
    manifests = {run: json.loads((run / "manifest.json").read_text()) for run in (demo_data / period).iterdir()}
    run = max(manifests, key=lambda r: manifests[r]["runInfo"]["submittedTime"])
    manifest = manifests[run]
    new_run = "0d9c1e2f-restated-run"
    new_dir = out / period / new_run
    restated_csv(run / "part_0_0001.csv.gz", new_dir / "part_0_0001.csv.gz", "costInBillingCurrency")
    manifest["runInfo"]["runId"] = new_run
    manifest["runInfo"]["submittedTime"] = "2026-10-22T06:00:00.0000000Z"
    for blob in manifest["blobs"]:
        blob["blobName"] = blob["blobName"].replace(run.name, new_run)
    (new_dir / "manifest.json").write_text(json.dumps(manifest))
    return out / "azure"


def restated_cur_assembly(demo_data: Path, out: Path) -> Path:
    """A newer CUR assembly of September for payer 111111111111, as AWS writes a restated month."""
    period = "aws/cur/finops-demo/cur-daily/20260901-20261001"
    manifest_path = demo_data / period / "cur-daily-Manifest.json"
    manifest = json.loads(manifest_path.read_text())
    old, new = manifest["assemblyId"], "5e1f0c3a-restated-assembly"
    for key in manifest["reportKeys"]:
        name = key.rsplit("/", 1)[1]
        restated_csv(demo_data / period / old / name, out / period / new / name, "lineItem/UnblendedCost")
    manifest["assemblyId"] = new
    manifest["reportKeys"] = [key.replace(old, new) for key in manifest["reportKeys"]]
    (out / period / "cur-daily-Manifest.json").write_text(json.dumps(manifest))
    return out / "aws"


def restated_gcp_extract(demo_data: Path, out: Path) -> Path:
    """A re-extract of invoice month 2026-09, named by a later export time, as GCP restates older days."""
    month = "gcp/billing_export/invoice_month=202609"
    latest = max((demo_data / month).iterdir())
    first, *rest = latest.read_text().splitlines(keepends=True)
    cost = re.search(r'"cost":(-?[0-9.]+)', first)
    assert cost is not None
    first = f"{first[: cost.start(1)]}{Decimal(cost.group(1)) + RESTATEMENT}{first[cost.end(1) :]}"
    (out / month).mkdir(parents=True)
    (out / month / "20261030T000000Z-000000000000.json").write_text("".join([first, *rest]))
    return out / "gcp"


@pytest.mark.parametrize(
    ("source", "restate", "period"),
    [
        ("azure", restated_azure_run, AZURE_OCTOBER),
        ("aws-cur", restated_cur_assembly, AWS_SEPTEMBER),
        ("gcp", restated_gcp_extract, GCP_SEPTEMBER),
    ],
    ids=["azure-actual-export-run", "aws-cur-assembly", "gcp-re-extract"],
)
def test_a_restated_period_is_rebuilt_alone_and_equals_a_full_rebuild(
    warehouse: Path, demo_data: Path, tmp_path: Path, source: str, restate, period: str
) -> None:
    before = period_totals(warehouse)
    assert period in before
    delivery = restate(demo_data, tmp_path / "delivery")
    report = run_load(source, str(delivery), warehouse)
    assert report.rows_loaded, "the restated delivery must replace the period's raw rows"
    mark_every_row(warehouse)

    run_dbt(["build"], warehouse, quiet=True)

    assert rebuilt_periods(warehouse) == {
        "marts.focus_costs": {period},
        "intermediate.int_gcp_billing__focus_mapped": {period} if source == "gcp" else set(),
    }
    after = period_totals(warehouse)
    assert {key: totals for key, totals in after.items() if key != period} == {
        key: totals for key, totals in before.items() if key != period
    }
    assert after[period][1] == before[period][1] + RESTATEMENT
    assert after[period][4] > before[period][4], "the restated period carries its new load time"
    # `dbt build` ran reconcile_billed_cost_to_raw_invoices on the result; run_dbt raises when a test fails.

    strip_markers(warehouse)
    snapshot(warehouse)
    run_dbt(["run", "--full-refresh"], warehouse, quiet=True)
    assert differences_from_snapshot(warehouse) == dict.fromkeys(COMPARED, 0)


def test_a_build_with_nothing_newly_loaded_rebuilds_nothing(warehouse: Path) -> None:
    mark_every_row(warehouse)

    run_dbt(["build"], warehouse, quiet=True)

    assert rebuilt_periods(warehouse) == {table: set() for table in MARKED}
