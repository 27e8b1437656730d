"""Loaders on the real public sample exports: what lands, that it lands once, and clear errors."""

from __future__ import annotations

import csv
import gzip
import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import SAMPLES, query

from ingestion.errors import LoadError
from ingestion.pipeline import run_load

AWS_SAMPLE = SAMPLES / "aws" / "sample-anonymous-aws-export-dataset.csv"


def csv_total(path: Path, column: str) -> Decimal:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return sum((Decimal(row[column] or "0") for row in csv.DictReader(handle)), Decimal(0))


def raw_aws_total(warehouse: Path) -> tuple[int, Decimal]:
    return query(
        warehouse,
        "select count(*), sum(cast(line_item_unblended_cost as decimal(38, 12))) from raw_aws_cur.line_items",
    )[0]


def test_aws_sample_loads_every_row_once(warehouse: Path) -> None:
    expected = csv_total(AWS_SAMPLE, "lineItem/UnblendedCost")
    run_load("aws-cur", str(AWS_SAMPLE.parent), warehouse)
    assert raw_aws_total(warehouse) == (1281, expected)
    run_load("aws-cur", str(AWS_SAMPLE.parent), warehouse)
    assert raw_aws_total(warehouse) == (1281, expected)


def test_aws_rows_keep_file_line_and_delivery(warehouse: Path) -> None:
    run_load("aws-cur", str(AWS_SAMPLE), warehouse)
    rows = query(
        warehouse,
        "select _source_file, min(_line_number), max(_line_number), count(distinct _delivery_id), "
        "min(_billing_partition) from raw_aws_cur.line_items group by 1",
    )
    assert rows == [(str(AWS_SAMPLE), 2, 1282, 1, "123412340534|2023-11")]


def test_aws_tags_and_product_are_packed_as_json(warehouse: Path, tmp_path: Path) -> None:
    tagged = tmp_path / "cur" / "tagged.csv"
    tagged.parent.mkdir()
    with open(AWS_SAMPLE, newline="") as src, open(tagged, "w", newline="") as dst:
        reader, writer = csv.reader(src), csv.writer(dst)
        header = next(reader)
        # Two keys equal but for case, as tag drift produces them: both must survive under their own names.
        writer.writerow([*header, "resourceTags/user:Team", "resourceTags/user:team", "resourceTags/user:env"])
        for index, row in enumerate(reader):
            tags = ["Payments ", "", "prod"] if index == 0 else ["", "search", ""] if index == 1 else ["", "", ""]
            writer.writerow([*row, *tags])
    run_load("aws-cur", str(tagged.parent), warehouse)
    tags = query(
        warehouse, "select resource_tags from raw_aws_cur.line_items where resource_tags is not null order by 1"
    )
    assert [json.loads(t[0]) for t in tags] == [{"user:Team": "Payments ", "user:env": "prod"}, {"user:team": "search"}]


def test_manifest_names_the_current_assembly(warehouse: Path, tmp_path: Path) -> None:
    period = tmp_path / "cur" / "report" / "20231101-20231201"
    rows = AWS_SAMPLE.read_text().splitlines(keepends=True)
    for assembly, body in (("old-assembly", rows[:101]), ("new-assembly", rows)):
        (period / assembly).mkdir(parents=True)
        with gzip.open(period / assembly / "report-00001.csv.gz", "wt") as handle:
            handle.writelines(body)
    key = "prefix/report/20231101-20231201/{}/report-00001.csv.gz"
    manifest = {"assemblyId": "new-assembly", "reportKeys": [key.format("new-assembly")]}
    (period / "report-Manifest.json").write_text(json.dumps(manifest))
    report = run_load("aws-cur", str(tmp_path / "cur"), warehouse)
    assert report.deliveries == ["new-assembly"]
    assert len(report.superseded_files) == 1
    assert raw_aws_total(warehouse)[0] == 1281

    # AWS re-delivers the period: a new assembly, which the manifest now names, replaces every row.
    (period / "restated-assembly").mkdir()
    with gzip.open(period / "restated-assembly" / "report-00001.csv.gz", "wt") as handle:
        handle.writelines(rows[:101])
    manifest["assemblyId"] = "restated-assembly"
    manifest["reportKeys"] = [key.format("restated-assembly")]
    (period / "report-Manifest.json").write_text(json.dumps(manifest))
    run_load("aws-cur", str(tmp_path / "cur"), warehouse)
    assert query(warehouse, "select count(*), min(_delivery_id) from raw_aws_cur.line_items") == [
        (100, "restated-assembly")
    ]


def test_azure_samples_load_by_dataset(warehouse: Path) -> None:
    run_load("azure", str(SAMPLES / "azure"), warehouse)
    run_load("azure", str(SAMPLES / "azure"), warehouse)
    rows = query(
        warehouse,
        "select _dataset, billing_account_id, count(*) from raw_azure_cost.cost_details group by all order by all",
    )
    assert rows == [("actual", "12345678", 27), ("actual", "8611537", 11), ("amortized", "8611537", 28)]


def test_unknown_layout_is_logged_with_the_missing_columns(warehouse: Path, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus" / "export.csv"
    bogus.parent.mkdir()
    bogus.write_text("Date,Amount\n2026-01-01,1.00\n")
    aws = run_load("aws-cur", str(bogus.parent), warehouse)
    azure = run_load("azure", str(bogus.parent), warehouse)
    assert [(f.status, f.rows_loaded) for f in aws.files + azure.files] == [("failed", 0), ("failed", 0)]
    assert re.match(r".*export\.csv: not an AWS CUR file; missing required columns: bill/Payer", aws.files[0].error)
    assert "not an Azure cost details export; missing required columns: billing_acc" in azure.files[0].error
    log = query(warehouse, "select source, status, rows_loaded, error from meta.load_log order by source")
    assert [(source, status, loaded) for source, status, loaded, _ in log] == [
        ("aws-cur", "failed", 0),
        ("azure", "failed", 0),
    ]


def test_a_missing_folder_is_a_clear_error(warehouse: Path, tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="no such file or folder"):
        run_load("gcp", str(tmp_path / "missing"), warehouse)


def test_a_copy_of_a_loose_file_is_one_delivery_per_folder(warehouse: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cur"
    folder.mkdir()
    shutil.copy(AWS_SAMPLE, folder / "a.csv")
    run_load("aws-cur", str(folder), warehouse)
    first = query(warehouse, "select distinct _delivery_id from raw_aws_cur.line_items")
    run_load("aws-cur", str(folder), warehouse)
    assert query(warehouse, "select distinct _delivery_id from raw_aws_cur.line_items") == first
    assert first[0][0].startswith("sha256:")


def azure_run(root: Path, run_id: str, submitted: str, rows: int) -> Path:
    """An export run folder as Cost Management writes it: data file plus manifest with the run's time."""
    run = root / "finops-actual" / "20230901-20230930" / run_id
    run.mkdir(parents=True)
    lines = (SAMPLES / "azure" / "EA_ActualCost_Small.csv").read_text(encoding="utf-8-sig").splitlines(keepends=True)
    (run / "part_0_0001.csv").write_text("".join(lines[: rows + 1]))
    manifest = {
        "exportConfig": {"exportName": "finops-actual", "type": "ActualCost"},
        "runInfo": {"runId": run_id, "submittedTime": submitted},
    }
    (run / "manifest.json").write_text(json.dumps(manifest))
    return run


def test_an_older_export_run_loaded_later_does_not_replace_a_newer_one(warehouse: Path, tmp_path: Path) -> None:
    newer = azure_run(tmp_path / "exports" / "newer", "run-2", "2023-10-02T06:00:00Z", rows=11)
    older = azure_run(tmp_path / "exports" / "older", "run-1", "2023-10-01T06:00:00Z", rows=6)
    totals = "select count(*), min(_delivery_id) from raw_azure_cost.cost_details"
    run_load("azure", str(newer), warehouse)
    assert query(warehouse, totals) == [(11, "run-2")]
    report = run_load("azure", str(older), warehouse)
    assert query(warehouse, totals) == [(11, "run-2")]
    assert report.files[0].status == "superseded"
    assert "holds a newer delivery (2023-10-02T06:00:00Z > 2023-10-01T06:00:00Z)" in report.files[0].error
    # Both runs in one load: the newer one is loaded and the older one is logged as superseded.
    both = run_load("azure", str(tmp_path / "exports"), warehouse)
    assert [f.status for f in both.files] == ["superseded", "duplicate"]


def test_aws_focus_export_is_recognised_by_its_columns(warehouse: Path) -> None:
    sample = SAMPLES / "focus" / "focus_sample_1.0.csv"
    report = run_load("aws-cur", str(sample.parent), warehouse)
    with open(sample, newline="") as handle:
        expected = sum((Decimal(row["BilledCost"]) for row in csv.DictReader(handle)), Decimal(0))
    assert report.rows_loaded == {"focus_line_items": 1000}
    assert query(
        warehouse,
        "select count(*), sum(cast(billed_cost as decimal(38, 12))), count(*) filter (availability_zone = 'NULL') "
        "from raw_aws_cur.focus_line_items",
    ) == [(1000, expected, 0)]
