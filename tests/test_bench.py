"""`finops bench`: the harness measures what it says and reports every figure. Timings are never asserted."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from finops_warehouse import bench

SOURCES = ("aws-cur", "azure", "gcp", "events")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The whole bench on 7 days of small demo data; the peer comparison needs PyPI, and the watch latency
    90 days of history, so both are left out."""
    workdir = tmp_path_factory.mktemp("bench")
    return bench.run_bench("small", workdir, days=7, history_days=(7,), peer=False, watch=False)


def test_a_tiny_run_reports_every_figure(tiny_run: dict[str, Any]) -> None:
    assert set(tiny_run) >= {
        "scale", "machine", "dataset", "load", "focus_mart_build", "dbt_build", "python_models", "dashboard",
        "rescan", "incremental", "peer", "history_series", "totals", "targets",
    }  # fmt: skip
    assert tiny_run["dataset"]["line_items"] > 0
    for source in SOURCES:
        load = tiny_run["load"][source]
        assert load["rows"] > 0 and load["rows_per_s"] > 0 and load["files"]
        assert load["seconds"] > 0 and load["peak_rss_mb"] > 0
        assert load["native"]["rows"] > 0 and load["native"]["seconds"] > 0
        assert load["ratio_to_native"] > 0
    for step in ("focus_mart_build", "dbt_build"):
        assert tiny_run[step]["seconds"] > 0 and tiny_run[step]["peak_rss_mb"] > 0
    assert tiny_run["totals"]["whole_pipeline_seconds"] > tiny_run["dbt_build"]["seconds"]


def test_native_reads_count_the_same_billing_rows_as_our_loads(tiny_run: dict[str, Any]) -> None:
    # The ratio only means something if both sides read the same files in full.
    for source in ("aws-cur", "azure", "gcp", "events"):
        assert tiny_run["load"][source]["native"]["rows"] == tiny_run["load"][source]["rows"], source


def test_every_dashboard_query_is_timed_and_grouped_by_page(tiny_run: dict[str, Any]) -> None:
    queries = tiny_run["dashboard"]["queries"]
    assert set(queries) >= {"spend_by_currency", "daily_spend", "top_movers", "showback", "anomaly_episodes"}
    assert all(q["cold_ms"] > 0 and q["warm_median_ms"] > 0 for q in queries.values())
    pages = tiny_run["dashboard"]["pages"]
    assert set(pages) == {p.stem for p in (bench.PROJECT_DIR / "dashboards" / "views").glob("*.py")} - {"__init__"}
    assert all(page["queries"] and page["render_ms"] > 0 and page["exceptions"] == 0 for page in pages.values())


def test_the_incremental_loads_only_the_next_delivery_and_rebuilds(tiny_run: dict[str, Any]) -> None:
    increment = tiny_run["incremental"]
    assert increment["delivered_files"] > 0
    assert set(increment["loads"]) == set(SOURCES)
    assert increment["load_seconds"] > 0 and increment["build_seconds"] > 0
    # A month-to-date delivery, not the whole history again.
    assert sum(increment["delivered_rows"].values()) < sum(tiny_run["load"][s]["rows"] for s in SOURCES)
    assert [p["days"] for p in tiny_run["history_series"]["points"]] == [7]


def test_missing_parts_are_reported_not_invented(tiny_run: dict[str, Any]) -> None:
    assert tiny_run["python_models"]["status"] == "measured"
    assert set(tiny_run["python_models"]["models"]) == {
        "int_anomaly__scored", "int_forecast__backtested", "int_forecast__predicted"
    }  # fmt: skip
    assert tiny_run["peer"]["status"] == "skipped"
    statuses = {t["target"]: t["status"] for t in tiny_run["targets"]}
    assert len(statuses) == len(bench.TARGETS)
    assert statuses["Same CUR file to FOCUS at least 2x faster than focus-converter"] == "NOT MEASURED"
    assert statuses["Large: peak memory under 4 GB"] == "applies at large"
    assert set(statuses.values()) <= {"MET", "NOT MET", "NOT MEASURED", "applies at medium", "applies at large"}


def test_results_are_merged_per_scale_and_rendered(tiny_run: dict[str, Any], tmp_path: Path) -> None:
    other = {**tiny_run, "scale": "medium"}
    bench.write_results(other, tmp_path)
    json_path, md_path = bench.write_results(tiny_run, tmp_path)
    assert list(json.loads(json_path.read_text())["runs"]) == ["small", "medium"]
    markdown = md_path.read_text()
    assert "| figure | small | medium |" in markdown
    assert "## small: targets" in markdown and "## medium: targets" in markdown
    assert tiny_run["machine"]["cpu"] in markdown
    assert "| Python models |" in markdown
    # Every table row has as many cells as its header.
    for block in markdown.split("\n\n"):
        rows = [line for line in block.splitlines() if line.startswith("|")]
        assert len({row.count(" | ") for row in rows}) <= 1, block


def test_a_failed_step_is_reported_and_the_rest_still_renders(tiny_run: dict[str, Any]) -> None:
    failed = {"status": "failed", "error": "Out of Memory Error: could not allocate block"}
    run = {**tiny_run, "dbt_build": failed, "peer": failed}
    run["totals"] = bench._totals(run)
    run["targets"] = bench.evaluate_targets(run)
    assert run["totals"]["whole_pipeline_seconds"] is None
    statuses = {t["target"]: t for t in run["targets"]}
    assert statuses["Our output passes focus-validator where focus-converter's does not"]["status"] == "NOT MEASURED"
    markdown = bench.render_markdown({"small": run})
    assert "Failed: Out of Memory Error" in markdown
    assert "failed or not measured" in markdown


def test_a_measured_child_reports_the_peak_memory_of_its_process_tree(tmp_path: Path) -> None:
    # A child that holds ~200 MB starts a grandchild that holds ~150 MB at the same time.
    grandchild = "x = bytearray(150 * 1024 * 1024); import time; time.sleep(1)"
    child = (
        "import subprocess, sys; x = bytearray(200 * 1024 * 1024); "
        f"p = subprocess.Popen([sys.executable, '-c', {grandchild!r}]); p.wait()"
    )
    measured = bench.run_measured([sys.executable, "-c", child], tmp_path / "log")
    assert measured.peak_rss_mb >= 330
    assert measured.process_seconds >= 1


def test_a_failing_child_names_its_output(tmp_path: Path) -> None:
    with pytest.raises(bench.BenchError, match="boom"):
        bench.run_measured([sys.executable, "-c", "raise SystemExit('boom')"], tmp_path / "log")


def test_the_next_delivery_is_the_open_month_and_new_events_only(tmp_path: Path) -> None:
    data, next_data, increment = tmp_path / "data", tmp_path / "next", tmp_path / "increment"
    files = {
        "aws/cur/r/cur-daily/20260901-20261001/a1/cur-00001.csv.gz": ("old", "changed"),
        "aws/cur/r/cur-daily/20261001-20261101/a2/cur-00001.csv.gz": ("old", "new"),
        "aws/cur2/r/data/BILLING_PERIOD=2026-10/x.parquet": (None, "new"),
        "azure/exports/e/20261001-20261031/run/part_0_0001.csv.gz": (None, "new"),
        "gcp/billing_export/invoice_month=202610/20261016T064117Z-000000000000.json": (None, "new"),
        "gcp/billing_export/invoice_month=202609/20261016T070348Z-000000000000.json": (None, "restated"),
        "events/business_events/date=2026-10-14/events-000.jsonl": ("same", "same"),
        "events/business_events/date=2026-10-15/events-000.jsonl": (None, "new"),
        "labels/anomalies.csv": ("a", "b"),
    }
    for relative, (before, after) in files.items():
        if before is not None:
            (data / relative).parent.mkdir(parents=True, exist_ok=True)
            (data / relative).write_text(before)
        (next_data / relative).parent.mkdir(parents=True, exist_ok=True)
        (next_data / relative).write_text(after)
    copied = bench.copy_next_delivery(next_data, data, increment, dt.date(2026, 10, 15))
    found = sorted(p.relative_to(increment).as_posix() for p in increment.rglob("*") if p.is_file())
    assert found == sorted(
        [
            "aws/cur/r/cur-daily/20261001-20261101/a2/cur-00001.csv.gz",
            "aws/cur2/r/data/BILLING_PERIOD=2026-10/x.parquet",
            "azure/exports/e/20261001-20261031/run/part_0_0001.csv.gz",
            "gcp/billing_export/invoice_month=202610/20261016T064117Z-000000000000.json",
            "events/business_events/date=2026-10-15/events-000.jsonl",
        ]
    )
    assert copied == len(found)


def test_an_end_date_closing_a_month_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="last day"):
        bench.run_bench("small", tmp_path, end_date=dt.date(2026, 10, 31))


def test_the_repository_is_never_the_work_folder() -> None:
    with pytest.raises(ValueError, match="repository"):
        bench.run_bench("small", bench.PROJECT_DIR)
