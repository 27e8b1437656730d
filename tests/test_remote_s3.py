"""Loading from an S3 bucket through dlt's filesystem credentials, against a local S3 endpoint (moto).

The credentials reach the loader only as dlt reads them, from `SOURCES__FILESYSTEM__CREDENTIALS__*` (the
fields of dlt's AwsCredentials: aws_access_key_id, aws_secret_access_key, endpoint_url for an S3-compatible
endpoint). Whatever the bucket holds must load exactly as the same files do from a local folder.
"""

from __future__ import annotations

import csv
import gzip
import json
import logging
import socket
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import boto3
import duckdb
import pytest
from conftest import SAMPLES, query
from moto.server import ThreadedMotoServer

from ingestion.errors import LoadError
from ingestion.pipeline import run_load

BUCKET = "northwind-billing"
ACCESS_KEY, SECRET_KEY = "moto-test-key", "moto-test-secret"
TABLES = {"aws-cur": "raw_aws_cur.line_items", "azure": "raw_azure_cost.cost_details"}
# Columns that say where and when a row was loaded from, not what the provider delivered.
# Where and when a copy was made, not what it holds: a bucket object's LastModified is not the local file's mtime.
LOAD_COLUMNS = ("_source_file", "_loaded_at", "_delivered_at", "_dlt_load_id", "_dlt_id")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from finops_warehouse.demo import generate_demo

    out = tmp_path_factory.mktemp("remote_demo")
    generate_demo(out, days=35, scale="small", end_date=date(2026, 10, 31))
    return out


@pytest.fixture(scope="module")
def bucket(s3_endpoint: str, demo: Path) -> str:
    """The demo's legacy CUR (manifests, current and superseded assemblies) and the Azure EA samples."""
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    for prefix, folder in (("cur", demo / "aws" / "cur"), ("azure", SAMPLES / "azure")):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            client.upload_file(str(path), BUCKET, f"{prefix}/{path.relative_to(folder).as_posix()}")
    return BUCKET


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch, s3_endpoint: str, bucket: str) -> str:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SOURCES__FILESYSTEM__CREDENTIALS__AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("SOURCES__FILESYSTEM__CREDENTIALS__AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("SOURCES__FILESYSTEM__CREDENTIALS__ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("SOURCES__FILESYSTEM__CREDENTIALS__REGION_NAME", "us-east-1")
    return f"s3://{bucket}"


def rows_without_load_columns(warehouse: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = [c for c in con.sql(f"select * from {table} limit 0").columns if c not in LOAD_COLUMNS]
        select = ", ".join(f'"{c}"' for c in columns)
        # Text, so rows sort whatever the values; every raw value is text or a line number anyway.
        return sorted(tuple(map(str, row)) for row in con.sql(f"select {select} from {table}").fetchall())


def totals(warehouse: Path, table: str, amount: str) -> dict[str, tuple[int, Decimal]]:
    found: dict[str, list[str]] = {}
    for partition, value in query(warehouse, f"select _billing_partition, {amount} from {table}"):
        found.setdefault(partition, []).append(value)
    return {p: (len(v), sum((Decimal(x) for x in v if x), Decimal(0))) for p, v in found.items()}


def current_cur_files(root: Path) -> tuple[list[Path], list[Path]]:
    """(files the manifests name, other assembly files), read from the manifests themselves."""
    current, stale = [], []
    for manifest in sorted(root.rglob("*-Manifest.json")):
        body = json.loads(manifest.read_text())
        named = [manifest.parent / body["assemblyId"] / Path(k).name for k in body["reportKeys"]]
        current += named
        stale += [p for p in sorted(manifest.parent.glob("*/*.csv.gz")) if p not in named]
    return current, stale


def test_legacy_cur_from_s3_loads_as_from_a_folder(tmp_path: Path, demo: Path, credentials: str) -> None:
    local_root = demo / "aws" / "cur"
    current, stale = current_cur_files(local_root)
    assert len(current) == 2 and len(stale) == 1
    expected: dict[str, tuple[int, Decimal]] = {}
    for path in current:
        with gzip.open(path, "rt", newline="") as handle:
            for row in csv.DictReader(handle):
                key = f"{row['bill/PayerAccountId']}|{row['bill/BillingPeriodStartDate'][:7]}"
                count, total = expected.get(key, (0, Decimal(0)))
                expected[key] = (count + 1, total + Decimal(row["lineItem/UnblendedCost"]))

    local = tmp_path / "local" / "finops.duckdb"
    remote = tmp_path / "remote" / "finops.duckdb"
    local_report = run_load("aws-cur", str(local_root), local)
    report = run_load("aws-cur", f"{credentials}/cur", remote)

    assert sorted(report.deliveries) == sorted(local_report.deliveries) == sorted(p.parent.name for p in current)
    stale_uri = f"{credentials}/cur/{stale[0].relative_to(local_root).as_posix()}"
    assert report.superseded_files == [stale_uri]
    assert sorted((f.file, f.status) for f in report.files) == sorted(
        [(stale_uri, "superseded")]
        + [(f"{credentials}/cur/{p.relative_to(local_root).as_posix()}", "loaded") for p in current]
    )
    table = TABLES["aws-cur"]
    assert totals(remote, table, "line_item_unblended_cost") == expected
    assert totals(local, table, "line_item_unblended_cost") == expected
    assert rows_without_load_columns(remote, table) == rows_without_load_columns(local, table)
    assert query(remote, f"select count(*) from {table} where _source_file = '{stale_uri}'") == [(0,)]
    assert query(remote, f"select count(*) from {table} where _source_file not like 's3://{BUCKET}/cur/%'") == [(0,)]

    # The bucket loaded again: every current file is recognised by its content, nothing changes.
    again = run_load("aws-cur", f"{credentials}/cur", remote)
    assert sorted(f.status for f in again.files) == ["duplicate", "duplicate", "superseded"]
    assert totals(remote, table, "line_item_unblended_cost") == expected


def test_azure_samples_from_s3_load_as_from_a_folder(tmp_path: Path, credentials: str) -> None:
    local = tmp_path / "local" / "finops.duckdb"
    remote = tmp_path / "remote" / "finops.duckdb"
    run_load("azure", str(SAMPLES / "azure"), local)
    report = run_load("azure", f"{credentials}/azure/", remote)

    assert sorted(f.file for f in report.files) == sorted(
        f"{credentials}/azure/{p.name}" for p in (SAMPLES / "azure").glob("*.csv")
    )
    assert {f.status for f in report.files} == {"loaded"}
    table = TABLES["azure"]
    amount = "coalesce(cost, cost_in_billing_currency)"
    assert totals(remote, table, amount) == totals(local, table, amount)
    assert rows_without_load_columns(remote, table) == rows_without_load_columns(local, table)
    expected_rows = sum(
        len(p.read_text(encoding="utf-8-sig").splitlines()) - 1 for p in (SAMPLES / "azure").glob("*.csv")
    )
    assert query(remote, f"select count(*) from {table}") == [(expected_rows,)]


def test_a_single_object_in_a_bucket_loads(tmp_path: Path, credentials: str) -> None:
    warehouse = tmp_path / "remote" / "finops.duckdb"
    report = run_load("azure", f"{credentials}/azure/EA_ActualCost_Small.csv", warehouse)
    assert [(f.file, f.status, f.rows_loaded) for f in report.files] == [
        (f"{credentials}/azure/EA_ActualCost_Small.csv", "loaded", 11)
    ]


def test_a_missing_bucket_is_a_clear_error(tmp_path: Path, credentials: str) -> None:
    with pytest.raises(LoadError, match=r"s3://no-such-bucket/cur: cannot list the bucket"):
        run_load("aws-cur", "s3://no-such-bucket/cur", tmp_path / "remote" / "finops.duckdb")


def test_an_empty_prefix_says_no_files_were_found(tmp_path: Path, credentials: str) -> None:
    with pytest.raises(LoadError, match=r"no CUR files"):
        run_load("aws-cur", f"{credentials}/nothing-here", tmp_path / "remote" / "finops.duckdb")
