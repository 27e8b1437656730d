"""The anomaly-label loader: good labels land once, bad ones are rejected with a reason, a fix replaces."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import query

from finops_warehouse.dbt import run_dbt
from ingestion.errors import LoadError
from ingestion.pipeline import run_load

HEADER = (
    "anomaly_id,provider,billing_account_id,sub_account_id,service_name,team,kind,start_date,end_date,"
    "expected_daily_cost,description\n"
)
GOOD = (
    "A001,aws_cur,111111111111,210987654321,AmazonCloudFront,storefront,spike,2026-09-20,2026-09-20,99.20,CDN egress\n"
    # Written by hand: upper-case provider and kind are normalised, an unknown cost stays empty.
    " A002 ,AZURE,acct-1,sub-1,Microsoft.Storage,data,Leak,2026-10-01,2026-10-31,,Blob snapshots never expire\n"
)
BAD = (
    ",gcp,01AB23,proj,Vertex AI,ml,spike,2026-10-18,2026-10-20,494.52,no id\n"
    "B002,aws,111111111111,210987654321,AmazonS3,search,spike,2026-11-03,2026-11-03,10,not a provider key\n"
    "B003,gcp,01AB23,proj,Dataflow,data,surge,2026-10-09,2026-10-12,5,unknown kind\n"
    "B004,gcp,01AB23,proj,Dataflow,data,drop,2026/10/09,2026-10-12,5,not an ISO date\n"
    "B005,gcp,01AB23,proj,Dataflow,data,drop,2026-10-12,2026-10-09,5,ends before it starts\n"
    "B006,gcp,01AB23,proj,Dataflow,data,drop,2026-10-09,2026-10-12,about 5,cost in words\n"
)
REJECTS = [
    (4, "anomaly_id is empty"),
    (5, "provider is not one of aws_cur, aws_cur2, azure, gcp"),
    (6, "kind is not one of spike, leak, drop"),
    (7, "start_date is not a date (YYYY-MM-DD)"),
    (8, "end_date is before start_date"),
    (9, "expected_daily_cost is not a number"),
]
LABELS_SQL = (
    "select anomaly_id, provider, kind, start_date, end_date, expected_daily_cost, _line_number "
    "from raw_labels.anomaly_labels order by anomaly_id"
)
LABELS = [
    ("A001", "aws_cur", "spike", "2026-09-20", "2026-09-20", "99.20", 2),
    ("A002", "azure", "leak", "2026-10-01", "2026-10-31", None, 3),
]


@pytest.fixture
def labels(tmp_path: Path) -> Path:
    folder = tmp_path / "labels"
    folder.mkdir()
    (folder / "anomalies.csv").write_text(HEADER + GOOD + BAD)
    return folder


def test_good_labels_load_and_bad_ones_are_rejected_with_a_reason(labels: Path, warehouse: Path) -> None:
    report = run_load("anomaly-labels", str(labels), warehouse)

    assert query(warehouse, LABELS_SQL) == LABELS
    assert report.rows_loaded == {"anomaly_labels": 2}
    assert [(f.status, f.rows_read, f.rows_loaded, f.rows_rejected) for f in report.files] == [("partial", 8, 2, 6)]
    assert (
        query(
            warehouse,
            "select line_number, reason from meta.rejected_rows where source = 'anomaly-labels' order by line_number",
        )
        == REJECTS
    )


def test_loading_the_same_labels_again_changes_nothing(labels: Path, warehouse: Path) -> None:
    run_load("anomaly-labels", str(labels), warehouse)
    run_load("anomaly-labels", str(labels), warehouse)

    assert query(warehouse, LABELS_SQL) == LABELS


def test_a_corrected_label_replaces_the_one_loaded(labels: Path, warehouse: Path, tmp_path: Path) -> None:
    run_load("anomaly-labels", str(labels), warehouse)
    corrected = tmp_path / "corrected"
    corrected.mkdir()
    (corrected / "fix.csv").write_text(
        HEADER + "A001,aws_cur,111111111111,210987654321,AmazonCloudFront,storefront,spike,2026-09-20,2026-09-21,"
        "120.00,CDN egress for two days\n"
    )

    run_load("anomaly-labels", str(corrected), warehouse)

    assert query(warehouse, LABELS_SQL) == [
        ("A001", "aws_cur", "spike", "2026-09-20", "2026-09-21", "120.00", 2),
        LABELS[1],  # not in the corrected file, so untouched
    ]


def test_a_file_without_the_required_columns_fails_naming_them(warehouse: Path, tmp_path: Path) -> None:
    folder = tmp_path / "labels"
    folder.mkdir()
    (folder / "incidents.csv").write_text("anomaly_id,provider,start_date\nI1,gcp,2026-10-01\n")

    report = run_load("anomaly-labels", str(folder), warehouse)

    [outcome] = report.files
    assert outcome.status == "failed"
    assert outcome.error == f"{folder / 'incidents.csv'}: not an anomaly-label file; missing columns: kind, end_date"


def test_a_location_without_label_files_is_an_error(warehouse: Path, tmp_path: Path) -> None:
    with pytest.raises(LoadError, match=f"{tmp_path}: no anomaly-label files"):
        run_load("anomaly-labels", str(tmp_path), warehouse)


def test_staging_types_the_labels(labels: Path, warehouse: Path) -> None:
    run_load("anomaly-labels", str(labels), warehouse)

    run_dbt(["build", "-s", "stg_labels__anomaly_labels"], warehouse, quiet=True)

    assert query(
        warehouse,
        "select anomaly_id, provider, x_source_provider, start_date, end_date, expected_daily_cost, "
        "source_line_number from staging.stg_labels__anomaly_labels order by anomaly_id",
    ) == [
        ("A001", "aws_cur", "aws", date(2026, 9, 20), date(2026, 9, 20), Decimal("99.20"), 2),
        ("A002", "azure", "azure", date(2026, 10, 1), date(2026, 10, 31), None, 3),
    ]
