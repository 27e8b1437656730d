"""`finops watch`: a delivery dropped into the landing is loaded and built until its spike is flagged; a
watcher killed mid-cycle and restarted leaves the totals right; incomplete deliveries wait; a second watcher
is refused; an unchanged landing does nothing.

One small demo (30 days, ending mid-month) is loaded into a landing folder, built and adopted by the
watcher once; each test works on a copy of it. The next day's files are the ones AWS delivers for it
(`copy_next_delivery` on a demo generated one day longer); only AWS is dropped, which keeps each test to
one cycle.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import query

from finops_warehouse.bench import copy_next_delivery, land_files, plant_cur_spike
from finops_warehouse.cli import main
from finops_warehouse.dbt import run_dbt
from finops_warehouse.demo import generate_demo
from finops_warehouse.reconcile import expected_totals, focus_totals
from finops_warehouse.watch import (
    LANDING_LAYOUT,
    Landed,
    Signature,
    Watcher,
    WatchOptions,
    changed_files,
    list_landing,
    missing_from_manifests,
    unsettled,
    watch_lock,
)
from ingestion.files import ExportFile
from ingestion.pipeline import run_load

END_DATE = date(2026, 10, 14)
NEXT_DAY = END_DATE + timedelta(days=1)
DAYS = 30
PLANTED = Decimal("20000")
WAIT_SECONDS = 240


@pytest.fixture(scope="module")
def adopted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`root/landing` loaded into `root/warehouse/finops.duckdb`, built and adopted; `root/next` is the next day."""
    root = tmp_path_factory.mktemp("watch")
    landing, warehouse = root / "landing", root / "warehouse" / "finops.duckdb"
    generate_demo(landing, days=DAYS, seed=42, scale="small", end_date=END_DATE)
    generate_demo(root / "next_demo", days=DAYS + 1, seed=42, scale="small", end_date=NEXT_DAY)
    copy_next_delivery(root / "next_demo", landing, root / "next", NEXT_DAY)
    # Invoices: the closed month as first delivered, the open month as of the next day.
    history = expected_totals(landing / "expected" / "invoice_totals.csv")
    invoices = expected_totals(root / "next_demo" / "expected" / "invoice_totals.csv")
    invoices.update({key: totals for key, totals in history.items() if key[2] < f"{NEXT_DAY:%Y-%m}"})
    rows = [[*key, str(billed), str(effective)] for key, (billed, effective) in invoices.items()]
    (root / "invoices.json").write_text(json.dumps(rows))
    shutil.rmtree(root / "next_demo")
    for folder in ("labels", "expected"):
        shutil.rmtree(landing / folder)
    previous = os.environ.get("FINOPS_WAREHOUSE")
    os.environ["FINOPS_WAREHOUSE"] = str(warehouse)
    for source, folder in LANDING_LAYOUT.items():
        run_load(source, str(landing / folder), warehouse)
    run_dbt(["build", "--exclude-resource-type", "unit_test"], warehouse, quiet=True)
    assert Watcher(WatchOptions(str(landing), warehouse), print).adopt() > 0
    yield root
    if previous is None:
        os.environ.pop("FINOPS_WAREHOUSE", None)
    else:
        os.environ["FINOPS_WAREHOUSE"] = previous


@pytest.fixture
def site(adopted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "site"
    shutil.copytree(adopted, copy)
    monkeypatch.setenv("FINOPS_WAREHOUSE", str(copy / "warehouse" / "finops.duckdb"))
    monkeypatch.setenv("RUNTIME__LOG_LEVEL", "ERROR")
    return copy


def start_watcher(site: Path, log: Path, *extra: str) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "finops_warehouse.cli", "--warehouse", str(site / "warehouse" / "finops.duckdb"),
        "watch", str(site / "landing"), "--interval", "1", *extra,
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=log.open("w"), stderr=subprocess.STDOUT)


def wait_for_line(log: Path, text: str, process: subprocess.Popen, timeout: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text():
            return
        if process.poll() is not None:
            raise AssertionError(f"the watcher exited ({process.returncode}) before {text!r}:\n{log.read_text()}")
        time.sleep(0.5)
    process.kill()
    raise AssertionError(f"no {text!r} within {timeout} s:\n{log.read_text()}")


def runs(warehouse: Path) -> list[tuple]:
    return query(
        warehouse,
        "select loader_source, status, rows_loaded, models_rebuilt, latency_seconds, load_seconds, build_seconds "
        "from marts.pipeline_runs order by started_at",
    )


def test_a_dropped_day_is_loaded_built_and_its_spike_flagged(site: Path) -> None:
    warehouse = site / "warehouse" / "finops.duckdb"
    plant_cur_spike(site / "next", NEXT_DAY, PLANTED)
    log = site / "watch.log"
    watcher = start_watcher(site, log)
    try:
        wait_for_line(log, "watching", watcher)
        land_files(site / "next", site / "landing", "aws")
        wait_for_line(log, ": succeeded in", watcher)
    finally:
        watcher.send_signal(signal.SIGTERM)
        watcher.wait(timeout=60)
    assert watcher.returncode == 0, log.read_text()
    flagged = query(
        warehouse,
        f"""
        select direction, actual_cost - expected_cost
        from marts.cost_anomalies
        where is_anomaly and provider = 'aws' and charge_date = '{NEXT_DAY}' and actual_cost >= {PLANTED}
        """,
    )
    assert [direction for direction, _ in flagged] == ["spike"]
    assert flagged[0][1] > PLANTED * Decimal("0.9")
    [(source, status, rows_loaded, models_rebuilt, latency, load_seconds, build_seconds)] = runs(warehouse)
    assert (source, status) == ("aws-cur", "succeeded")
    assert rows_loaded > 0 and models_rebuilt > 0
    assert latency >= load_seconds + build_seconds > 0


def test_a_watcher_killed_mid_cycle_resumes_and_totals_match(site: Path) -> None:
    warehouse = site / "warehouse" / "finops.duckdb"
    log = site / "watch.log"
    watcher = start_watcher(site, log)
    try:
        wait_for_line(log, "watching", watcher)
        land_files(site / "next", site / "landing", "aws")
        wait_for_line(log, ": build started", watcher)
        time.sleep(3)
    finally:
        watcher.kill()
        watcher.wait(timeout=30)
    assert watcher.returncode == -signal.SIGKILL

    resumed = start_watcher(site, site / "resume.log", "--once")
    assert resumed.wait(timeout=WAIT_SECONDS) == 0, (site / "resume.log").read_text()

    invoices = json.loads((site / "invoices.json").read_text())
    expected = {tuple(row[:4]): (Decimal(row[4]), Decimal(row[5])) for row in invoices if row[0].startswith("aws")}
    actual = {k: v for k, v in focus_totals(warehouse).items() if k[0].startswith("aws")}
    assert actual == expected
    [(rows, keys)] = query(warehouse, "select count(*), count(distinct x_RowKey) from marts.focus_costs")
    assert rows == keys
    assert [(source, status) for source, status, *_ in runs(warehouse)] == [
        ("aws-cur", "interrupted"),
        ("aws-cur", "succeeded"),
    ]


def test_an_incomplete_delivery_waits(site: Path) -> None:
    warehouse = site / "warehouse" / "finops.duckdb"
    land_files(site / "next", site / "landing", "aws")
    manifest = next((site / "landing" / "aws" / "cur").rglob("*20261001-20261101/cur-daily-Manifest.json"))
    named = max(manifest.parent.rglob("*.csv.gz"), key=lambda p: p.stat().st_mtime)
    named.unlink()
    loads_before = query(warehouse, "select count(*) from meta.load_log")
    result = CliRunner().invoke(main, ["watch", str(site / "landing"), "--once", "--interval", "0.2"])
    assert result.exit_code == 0, result.output
    assert f"waiting for aws-cur: manifest names missing {named}" in result.output
    assert "load started" not in result.output
    assert query(warehouse, "select count(*) from meta.load_log") == loads_before


def test_a_file_still_changing_is_not_ready() -> None:
    def landed(size: int, modified: float) -> Landed:
        return Landed("events", ExportFile("/landing/events", "e.jsonl"), Signature(size, modified))

    growing = [landed(200, 2.0)]
    assert unsettled(growing, {"events/e.jsonl": landed(100, 1.0)}) == ["events/e.jsonl"]
    assert unsettled(growing, None) == ["events/e.jsonl"]
    assert unsettled(growing, {"events/e.jsonl": landed(200, 2.0)}) == []


def test_an_unchanged_landing_loads_and_builds_nothing(site: Path) -> None:
    warehouse = site / "warehouse" / "finops.duckdb"
    loads_before = query(warehouse, "select count(*) from meta.load_log")
    result = CliRunner().invoke(main, ["watch", str(site / "landing"), "--once", "--interval", "0.2"])
    assert result.exit_code == 0, result.output
    assert "started" not in result.output
    assert "0 cycle(s) succeeded, 0 failed" in result.output
    assert query(warehouse, "select count(*) from meta.load_log") == loads_before
    assert query(warehouse, "select count(*) from marts.pipeline_runs") == [(0,)]


def test_a_second_watcher_on_the_same_warehouse_is_refused(site: Path) -> None:
    warehouse = site / "warehouse" / "finops.duckdb"
    with watch_lock(warehouse):
        result = CliRunner().invoke(main, ["watch", str(site / "landing"), "--once", "--interval", "0.2"])
    assert result.exit_code == 1
    assert "another `finops watch`" in result.output
    assert "Traceback" not in result.output


def test_a_bucket_prefix_is_listed_and_checked_like_a_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """s3:// through dlt's filesystem credentials, against a local S3 endpoint (moto), as in test_remote_s3."""
    import boto3
    from moto.server import ThreadedMotoServer
    from test_remote_s3 import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
            monkeypatch.delenv(name, raising=False)
        credentials = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "ENDPOINT_URL": endpoint}
        for field, value in {**credentials, "REGION_NAME": "us-east-1"}.items():
            monkeypatch.setenv(f"SOURCES__FILESYSTEM__CREDENTIALS__{field}", value)
        client = boto3.client(
            "s3", endpoint_url=endpoint, aws_access_key_id="k", aws_secret_access_key="s", region_name="us-east-1"
        )
        client.create_bucket(Bucket="landing")
        manifest = '{"assemblyId": "a1", "reportKeys": ["r/20261001-20261101/a1/cur-00001.csv.gz"]}'
        client.put_object(Bucket="landing", Key="in/aws/r/20261001-20261101/r-Manifest.json", Body=manifest)
        client.put_object(Bucket="landing", Key="in/events/e.jsonl", Body=b'{"event_id": "1"}\n')
        client.put_object(Bucket="landing", Key="in/events/.e2.jsonl.tmp", Body=b"half")

        listing = list_landing("s3://landing/in")
        assert sorted(listing) == ["aws/r/20261001-20261101/r-Manifest.json", "events/e.jsonl"]
        changed = changed_files(listing, {})
        assert list(changed) == ["aws-cur", "events"]
        assert missing_from_manifests(changed["aws-cur"], listing) == [
            "s3://landing/in/aws/r/20261001-20261101/a1/cur-00001.csv.gz"
        ]
        done = {key: landed.signature for key, landed in listing.items()}
        client.put_object(Bucket="landing", Key="in/events/e.jsonl", Body=b'{"event_id": "1"}\n{"event_id": "2"}\n')
        assert [f.key for f in changed_files(list_landing("s3://landing/in"), done)["events"]] == ["events/e.jsonl"]
    finally:
        server.stop()


def test_freshness_checks_the_loaded_sources_against_their_slas(site: Path) -> None:
    result = CliRunner().invoke(main, ["freshness", "-s", "source:aws_cur", "source:events"])
    assert result.exit_code == 0, result.output
    # Loaded minutes ago: the CUR line items and the events are within their SLA.
    assert "freshness: 2 source table(s) within their error SLA" in result.output


def test_a_failed_delivery_waits_for_a_change_or_its_retry_time(tmp_path: Path) -> None:
    watcher = Watcher(WatchOptions(str(tmp_path / "landing"), tmp_path / "finops.duckdb"), print)
    failed = Landed("gcp", ExportFile(str(tmp_path), "x.json"), Signature(10, 1.0))
    watcher.failed[failed.key] = (failed.signature, time.monotonic() + 60)
    assert watcher._held_back(failed)
    assert not watcher._held_back(Landed("gcp", failed.file, Signature(11, 2.0)))
    watcher.failed[failed.key] = (failed.signature, time.monotonic() - 1)
    assert not watcher._held_back(failed)
