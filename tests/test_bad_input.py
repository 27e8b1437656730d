"""Bad input, as real exports produce it: good rows load, every bad one is kept and counted, totals exact."""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
import zlib
from decimal import Decimal
from pathlib import Path

import duckdb
from conftest import SAMPLES, query

from ingestion.pipeline import run_load

AWS_SAMPLE = SAMPLES / "aws" / "sample-anonymous-aws-export-dataset.csv"
COST = "lineItem/UnblendedCost"


def sample_rows() -> tuple[list[str], list[list[str]]]:
    with open(AWS_SAMPLE, newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    path.write_text(buffer.getvalue())


def total(header: list[str], rows: list[list[str]]) -> Decimal:
    index = header.index(COST)
    return sum((Decimal(row[index] or "0") for row in rows), Decimal(0))


def raw_totals(warehouse: Path) -> tuple[int, Decimal]:
    return query(
        warehouse,
        "select count(*), sum(cast(line_item_unblended_cost as decimal(38, 12))) from raw_aws_cur.line_items",
    )[0]


def rejects(warehouse: Path) -> list[tuple]:
    return query(warehouse, "select line_number, reason, raw_text from meta.rejected_rows order by line_number")


def test_malformed_lines_are_rejected_and_the_rest_load(warehouse: Path, tmp_path: Path) -> None:
    header, rows = sample_rows()
    broken = [list(row) for row in rows]
    broken[8] = broken[8][:-3]  # line 10: too few fields
    broken[18] = [*broken[18], "extra", "fields"]  # line 20: too many
    write_csv(tmp_path / "cur" / "report.csv", header, broken)
    report = run_load("aws-cur", str(tmp_path / "cur"), warehouse)

    good = [row for index, row in enumerate(rows) if index not in (8, 18)]
    assert raw_totals(warehouse) == (len(good), total(header, good))
    assert [(f.status, f.rows_read, f.rows_loaded, f.rows_rejected) for f in report.files] == [
        ("partial", 1281, 1279, 2)
    ]
    assert [(line, reason.split(":")[0]) for line, reason, _ in rejects(warehouse)] == [
        (10, "missing columns"),
        (20, "too many columns"),
    ]
    # Rows after a rejected line keep their true line number in the file.
    line_11 = query(warehouse, "select identity_line_item_id from raw_aws_cur.line_items where _line_number = 11")
    assert line_11 == [(rows[9][0],)]


def test_a_cost_that_is_not_a_number_rejects_the_row(warehouse: Path, tmp_path: Path) -> None:
    header, rows = sample_rows()
    index = header.index(COST)
    bad = [list(row) for row in rows]
    bad[3][index], bad[4][index] = "twelve", "NaN"
    write_csv(tmp_path / "cur" / "report.csv", header, bad)
    run_load("aws-cur", str(tmp_path / "cur"), warehouse)

    good = [row for position, row in enumerate(rows) if position not in (3, 4)]
    assert raw_totals(warehouse) == (1279, total(header, good))
    assert [(line, reason) for line, reason, _ in rejects(warehouse)] == [
        (5, "line_item_unblended_cost is not a number: twelve"),
        (6, "line_item_unblended_cost is not a number: NaN"),
    ]


def test_a_truncated_gzip_loads_its_complete_lines(warehouse: Path, tmp_path: Path) -> None:
    header, rows = sample_rows()
    complete = AWS_SAMPLE.read_bytes()
    compressed = gzip.compress(complete)
    target = tmp_path / "cur" / "report.csv.gz"
    target.parent.mkdir()
    target.write_bytes(compressed[: len(compressed) * 2 // 3])
    report = run_load("aws-cur", str(target.parent), warehouse)

    readable = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16).decompress(target.read_bytes())
    survived = list(csv.reader(io.StringIO(bytes(readable).rpartition(b"\n")[0].decode())))[1:]
    assert 0 < len(survived) < len(rows)
    assert raw_totals(warehouse) == (len(survived), total(header, survived))
    (outcome,) = report.files
    assert (outcome.status, outcome.rows_loaded, outcome.rows_rejected) == ("partial", len(survived), 1)
    assert rejects(warehouse)[0][1].startswith(
        f"truncated gzip: the compressed file ends inside line {len(survived) + 2}"
    )


def test_a_byte_order_mark_is_not_part_of_the_first_column(warehouse: Path, tmp_path: Path) -> None:
    target = tmp_path / "cur" / "report.csv"
    target.parent.mkdir()
    target.write_bytes(b"\xef\xbb\xbf" + AWS_SAMPLE.read_bytes())
    run_load("aws-cur", str(target.parent), warehouse)
    header, rows = sample_rows()
    assert raw_totals(warehouse) == (1281, total(header, rows))
    assert query(warehouse, "select count(identity_line_item_id) from raw_aws_cur.line_items") == [(1281,)]


def test_an_exact_duplicate_file_is_recognised_and_skipped(warehouse: Path, tmp_path: Path) -> None:
    first = run_load("aws-cur", str(AWS_SAMPLE), warehouse)
    copy = tmp_path / "redelivered" / "same-content.csv"
    copy.parent.mkdir()
    shutil.copy(AWS_SAMPLE, copy)
    second = run_load("aws-cur", str(copy.parent), warehouse)
    header, rows = sample_rows()
    assert [f.status for f in first.files] == ["loaded"]
    assert [(f.status, f.rows_loaded) for f in second.files] == [("duplicate", 0)]
    assert "identical to a file already loaded" in second.files[0].error
    assert raw_totals(warehouse) == (1281, total(header, rows))
    assert query(warehouse, "select status, count(*) from meta.load_log group by 1 order by 1") == [
        ("duplicate", 1),
        ("loaded", 1),
    ]


def test_a_changed_amount_type_is_a_clear_error_naming_the_column(warehouse: Path, tmp_path: Path) -> None:
    target = tmp_path / "cur2" / "data" / "BILLING_PERIOD=2026-08" / "export-00001.snappy.parquet"
    target.parent.mkdir(parents=True)
    with duckdb.connect() as con:
        con.execute(
            "copy (select '111111111111' as bill_payer_account_id, "
            "timestamp '2026-08-01' as bill_billing_period_start_date, 'Usage' as line_item_line_item_type, "
            "timestamp '2026-08-01' as line_item_usage_start_date, "
            "timestamp '2026-08-01' as line_item_unblended_cost) "
            f"to '{target}' (format parquet)"
        )
    report = run_load("aws-cur", str(tmp_path / "cur2"), warehouse)
    (outcome,) = report.files
    assert outcome.status == "failed"
    assert "column 'line_item_unblended_cost' changed type to TIMESTAMP" in outcome.error


def test_a_new_column_loads_and_a_missing_optional_one_is_null(warehouse: Path, tmp_path: Path) -> None:
    header, rows = sample_rows()
    write_csv(
        tmp_path / "cur" / "report.csv",
        [*header, "lineItem/BrandNewColumn", "resourceTags/user:new-key"],
        [[*row, "x", "tagged"] for row in rows],
    )
    run_load("aws-cur", str(tmp_path / "cur"), warehouse)
    assert query(
        warehouse,
        "select count(line_item_brand_new_column), count(*) filter (resource_tags like '%new-key%') "
        "from raw_aws_cur.line_items",
    ) == [(1281, 1281)]
    # The sample has no resource ids: the column is simply absent, and staging reads it as null.
    columns = [name for (name,) in query(warehouse, "select column_name from information_schema.columns")]
    assert "line_item_resource_id" not in columns


def test_a_broken_json_line_is_rejected_and_the_other_records_load(warehouse: Path, tmp_path: Path) -> None:
    records = [
        {
            "billing_account_id": "01AB23-45CD67-89EF01",
            "service": {"id": "6F81-5844-456A", "description": "Compute Engine"},
            "usage_start_time": f"2026-08-0{day} 00:00:00 UTC",
            "invoice": {"month": "202608"},
            "cost_type": "regular",
            "currency": "USD",
            "cost": cost,
            "credits": [],
        }
        for day, cost in ((1, 1.25), (2, 2.5), (3, 4.75), (4, 8.0))
    ]
    lines = [json.dumps(record) for record in records]
    lines[1] = lines[1][:40]  # cut mid-record, as a failed upload leaves it
    target = tmp_path / "gcp" / "invoice_month=202608" / "20260902T000000Z-000000000000.json"
    target.parent.mkdir(parents=True)
    target.write_text("\n".join(lines) + "\n")
    report = run_load("gcp", str(tmp_path / "gcp"), warehouse)

    assert query(
        warehouse,
        "select _line_number, cast(cost as decimal(38, 12)) from raw_gcp_billing.billing_export order by 1",
    ) == [(1, Decimal("1.25")), (3, Decimal("4.75")), (4, Decimal("8"))]
    assert [(f.status, f.rows_read, f.rows_loaded, f.rows_rejected) for f in report.files] == [("partial", 4, 3, 1)]
    assert [(line, reason) for line, reason, _ in rejects(warehouse)] == [
        (2, "invalid json: the line is not a JSON record")
    ]
