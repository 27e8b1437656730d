"""The loaders recognise the layouts providers really deliver, and land every row of the current delivery once.

Every expected total is computed here, independently of the loaders, from the fixture files with Python's
`decimal` module: CSV and JSON text is parsed as `Decimal` as written, Parquet doubles through their shortest
representation (`Decimal(repr(x))`, exact for the at most 15 significant digits exports carry). The warehouse
side is summed the same way from the raw text the loader stored, so no float and no DuckDB rounding is
involved on either side.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import shutil
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Context, Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq
import pytest
from conftest import SAMPLES, query

from ingestion.pipeline import run_load

DEMO_END = date(2026, 10, 31)
AWS_SAMPLE = SAMPLES / "aws" / "sample-anonymous-aws-export-dataset.csv"
EA_FILES = ("EA_ActualCost_Small.csv", "EA_AmortizedCost_Small.csv", "sample-anonymous-ea-export-dataset.csv")
# EA amounts carry up to 28 decimals: sum with a context wide enough that no addition ever rounds.
EXACT = Context(prec=400)


# --- independent readers of the fixture files -------------------------------------------------------------


def dsum(values: Iterable[str | Decimal | int | None]) -> Decimal:
    """Exact sum; None and empty text are no amount."""
    total = Decimal(0)
    for value in values:
        if value is None or value == "":
            continue
        total = EXACT.add(total, value if isinstance(value, Decimal) else Decimal(str(value)))
    return total


def as_decimal(value: object) -> Decimal | None:
    """A fixture value as the exact decimal it stands for: text as written, a Parquet double by its repr."""
    if value is None or value == "":
        return None
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


def csv_rows(path: Path) -> list[dict[str, str]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def parquet_rows(path: Path) -> list[dict]:
    return pq.read_table(path).to_pylist()


def json_lines(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line, parse_float=Decimal) for line in handle if line.strip()]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *rows])


def csv_to_text_parquet(source: Path, target: Path) -> None:
    """Every column as text, empty cells as nulls: a lossless Parquet copy of a CSV."""
    rows = csv_rows(source)
    columns = {name: [row[name] or None for row in rows] for name in rows[0]}
    target.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()}), target)


def csv_to_typed_parquet(source: Path, target: Path) -> None:
    """Types inferred as a Parquet export would carry them: amounts as doubles, flags as booleans."""
    target.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa_csv.read_csv(source), target)


# --- the warehouse side ------------------------------------------------------------------------------------


def raw_groups(warehouse: Path, table: str, key_sql: str, amount: str) -> dict[tuple, tuple[int, Decimal]]:
    """{group: (rows, exact sum of the raw text of `amount`)} over a raw table."""
    groups: dict[tuple, list] = defaultdict(list)
    for *key, value in query(warehouse, f"select {key_sql}, {amount} from {table}"):
        groups[tuple(key)].append(value)
    return {key: (len(values), dsum(values)) for key, values in groups.items()}


def grouped(rows: Iterable[tuple[tuple, Decimal | None]]) -> dict[tuple, tuple[int, Decimal]]:
    groups: dict[tuple, list] = defaultdict(list)
    for key, value in rows:
        groups[key].append(value)
    return {key: (len(values), dsum(values)) for key, values in groups.items()}


def log_rows(warehouse: Path) -> list[tuple[str, str, int, str | None]]:
    return query(warehouse, "select file, status, rows_loaded, error from meta.load_log order by file, status")


# --- demo exports ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Small demo exports (35 days to 2026-10-31: September partly, October complete, with re-deliveries)."""
    from finops_warehouse.demo import generate_demo

    out = tmp_path_factory.mktemp("layouts_demo")
    generate_demo(out, days=35, scale="small", end_date=DEMO_END)
    return out


def invoice_totals(demo: Path) -> dict[tuple[str, str], dict[str, str]]:
    with open(demo / "expected" / "invoice_totals.csv", newline="") as handle:
        return {(row["provider"], row["billing_period"]): row for row in csv.DictReader(handle)}


def azure_current_runs(azure_root: Path) -> tuple[list[tuple[str, Path]], list[Path]]:
    """([(dataset, run folder)] of the newest run per export and period, [older run folders]), from manifests."""
    runs: dict[tuple[str, Path], list[tuple[str, str, Path]]] = defaultdict(list)
    for manifest in azure_root.rglob("manifest.json"):
        body = json.loads(manifest.read_text())
        dataset = {"ActualCost": "actual", "AmortizedCost": "amortized"}[body["exportConfig"]["type"]]
        key = (body["exportConfig"]["exportName"], manifest.parent.parent)
        runs[key].append((body["runInfo"]["submittedTime"], dataset, manifest.parent))
    current, older = [], []
    for candidates in runs.values():
        ordered = sorted(candidates)
        current.append((ordered[-1][1], ordered[-1][2]))
        older.extend(run for _, _, run in ordered[:-1])
    return current, older


def mca_period(row: dict[str, str]) -> str:
    month, _, year = row["billingPeriodStartDate"].split("/")
    return f"{year}-{month}"


# --- Azure -------------------------------------------------------------------------------------------------


def ea_expected() -> dict[tuple, tuple[int, Decimal]]:
    """{(dataset, billing account, cost column): (rows, total)} of the EA samples, from the CSVs."""
    rows = []
    for name in EA_FILES:
        dataset = "amortized" if "amortized" in name.lower() else "actual"
        for row in csv_rows(SAMPLES / "azure" / name):
            column = "cost" if "Cost" in row else "cost_in_billing_currency"
            amount = row.get("Cost", row.get("CostInBillingCurrency"))
            rows.append(((dataset, row["BillingAccountId"], column), as_decimal(amount)))
    return grouped(rows)


def raw_ea(warehouse: Path) -> dict[tuple, tuple[int, Decimal]]:
    key = "_dataset, billing_account_id, case when cost is not null then 'cost' else 'cost_in_billing_currency' end"
    return raw_groups(warehouse, "raw_azure_cost.cost_details", key, "coalesce(cost, cost_in_billing_currency)")


@pytest.mark.parametrize("layout", ["csv", "csv.gz", "parquet"])
def test_azure_ea_exports_load_as_csv_gzip_and_parquet(warehouse: Path, tmp_path: Path, layout: str) -> None:
    folder = tmp_path / "ea"
    for name in EA_FILES:
        source = SAMPLES / "azure" / name
        stem = name.removesuffix(".csv")
        if layout == "csv":
            folder.mkdir(exist_ok=True)
            shutil.copy(source, folder / name)
        elif layout == "csv.gz":
            folder.mkdir(exist_ok=True)
            (folder / f"{stem}.csv.gz").write_bytes(gzip.compress(source.read_bytes(), mtime=0))
        else:
            csv_to_text_parquet(source, folder / f"{stem}.parquet")

    report = run_load("azure", str(folder), warehouse)

    # No manifests: the dataset comes from the file name (EA_AmortizedCost_* is the amortized export).
    assert sorted((f.status, Path(f.file).name.split(".")[0]) for f in report.files) == [
        ("loaded", "EA_ActualCost_Small"),
        ("loaded", "EA_AmortizedCost_Small"),
        ("loaded", "sample-anonymous-ea-export-dataset"),
    ]
    expected = ea_expected()
    assert {key: rows for key, (rows, _) in expected.items()} == {
        ("actual", "12345678", "cost_in_billing_currency"): 27,
        ("actual", "8611537", "cost"): 11,
        ("amortized", "8611537", "cost"): 28,
    }
    assert raw_ea(warehouse) == expected


@pytest.fixture(scope="module")
def mca_expected(demo: Path) -> dict[tuple, tuple[int, Decimal]]:
    """{(dataset, period): (rows, total costInBillingCurrency)} of the current MCA runs, from the CSVs."""
    current, _ = azure_current_runs(demo / "azure")
    rows = []
    for dataset, run in current:
        for part in sorted(run.glob("part_*.csv.gz")):
            rows.extend(
                ((dataset, mca_period(row)), as_decimal(row["costInBillingCurrency"])) for row in csv_rows(part)
            )
    return grouped(rows)


def copy_mca(demo: Path, target: Path, layout: str) -> None:
    """The demo's MCA export folders with every part file as plain CSV, gzipped CSV or typed Parquet."""
    shutil.copytree(demo / "azure", target)
    for part in sorted(target.rglob("part_*.csv.gz")):
        if layout == "csv":
            part.with_suffix("").write_bytes(gzip.decompress(part.read_bytes()))
        elif layout == "parquet":
            csv_to_typed_parquet(part, part.parent / part.name.replace(".csv.gz", ".parquet"))
        if layout != "csv.gz":
            part.unlink()


@pytest.mark.parametrize("layout", ["csv", "csv.gz", "parquet"])
def test_azure_mca_exports_load_as_csv_gzip_and_parquet(
    warehouse: Path, tmp_path: Path, demo: Path, mca_expected: dict, layout: str
) -> None:
    exports = tmp_path / "azure"
    copy_mca(demo, exports, layout)
    current, older = azure_current_runs(exports)
    assert len(current) == 4 and len(older) == 2  # Sep and Oct of both exports; Oct has an older run each

    report = run_load("azure", str(exports), warehouse)

    # Dataset from each run's manifest; the older run of the open month is superseded, not loaded.
    assert {(Path(f.file).parent.name, f.status) for f in report.files} == {
        *((run.name, "loaded") for _, run in current),
        *((run.name, "superseded") for run in older),
    }
    expected = mca_expected
    if layout == "parquet":
        # The Parquet copies hold doubles: the expectation comes from the Parquet files themselves, and
        # equals the CSV's exactly because no amount has more than 15 significant digits.
        rows = []
        for dataset, run in current:
            for part in sorted(run.glob("part_*.parquet")):
                assert pq.read_schema(part).field("costInBillingCurrency").type == pa.float64()
                rows.extend(
                    ((dataset, mca_period(row)), as_decimal(row["costInBillingCurrency"])) for row in parquet_rows(part)
                )
        assert grouped(rows) == mca_expected
        expected = grouped(rows)
    key = "_dataset, strftime(strptime(billing_period_start_date, '%m/%d/%Y'), '%Y-%m')"
    assert raw_groups(warehouse, "raw_azure_cost.cost_details", key, "cost_in_billing_currency") == expected
    # The generator's own invoice totals agree: actual rows and billed total, amortized effective total.
    invoice = invoice_totals(demo)
    for period in ("2026-09", "2026-10"):
        row = invoice[("azure", period)]
        assert expected[("actual", period)] == (int(row["row_count"]), Decimal(row["billed_total"]))
        assert expected[("amortized", period)][1] == Decimal(row["effective_total"])


def test_azure_dataset_comes_from_the_manifest_not_the_folder_name(warehouse: Path, tmp_path: Path, demo: Path) -> None:
    """Export folders named by the user say nothing about the dataset; the run manifest's type does."""
    exports = tmp_path / "azure" / "exports"
    sep = "20260901-20260930"
    for export, neutral in (("finops-demo-actual", "daily-a"), ("finops-demo-amortized", "daily-b")):
        shutil.copytree(demo / "azure" / "exports" / export / sep, exports / neutral / sep)
    report = run_load("azure", str(exports.parent), warehouse)
    assert [f.status for f in report.files] == ["loaded", "loaded"]
    by_folder = query(
        warehouse,
        "select split_part(_source_file, '/', -4), _dataset, count(*) from raw_azure_cost.cost_details group by all "
        "order by all",
    )
    current, _ = azure_current_runs(exports)
    expected_rows = {dataset: len(csv_rows(next(run.glob("*.csv.gz")))) for dataset, run in current}
    assert by_folder == [
        ("daily-a", "actual", expected_rows["actual"]),
        ("daily-b", "amortized", expected_rows["amortized"]),
    ]


# --- GCP ---------------------------------------------------------------------------------------------------


def gcp_expected(extract: list[dict]) -> dict[str, object]:
    return {
        "rows": len(extract),
        "cost": dsum(Decimal(r["cost"]) for r in extract),
        "credits": dsum(Decimal(c["amount"]) for r in extract for c in r["credits"]),
        "with_resource_name": sum(1 for r in extract if (r.get("resource") or {}).get("name")),
    }


def raw_gcp(warehouse: Path) -> dict[str, object]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = con.sql("select * from raw_gcp_billing.billing_export limit 0").columns
        rows = con.sql("select cost, credits from raw_gcp_billing.billing_export").fetchall()
        named = (
            con.sql("select count(resource_name) from raw_gcp_billing.billing_export").fetchall()[0][0]
            if "resource_name" in columns
            else 0
        )
    credits = [c["amount"] for _, text in rows if text for c in json.loads(text, parse_float=Decimal)]
    return {"rows": len(rows), "cost": dsum(c for c, _ in rows), "credits": dsum(credits), "with_resource_name": named}


@pytest.fixture(scope="module")
def gcp_month(demo: Path) -> Path:
    """The demo's invoice month 2026-09: two extracts, the later one (a re-extract with an adjustment) current."""
    folder = demo / "gcp" / "billing_export" / "invoice_month=202609"
    assert len(list(folder.glob("*.json"))) == 2
    return folder


# pyarrow infers types block by block; adjustment_info is null on all but one row, so name its type.
GCP_PARSE_OPTIONS = pa_json.ParseOptions(
    explicit_schema=pa.schema(
        [("adjustment_info", pa.struct([(f, pa.string()) for f in ("id", "description", "mode", "type")]))]
    ),
    unexpected_field_behavior="infer",
)


def newest_extract(folder: Path) -> Path:
    return sorted(folder.iterdir())[-1]


def test_gcp_jsonl_detailed_export(warehouse: Path, tmp_path: Path, gcp_month: Path) -> None:
    target = tmp_path / "billing_export" / gcp_month.name
    shutil.copytree(gcp_month, target)
    report = run_load("gcp", str(tmp_path / "billing_export"), warehouse)

    newest = newest_extract(target)
    assert sorted((Path(f.file).name, f.status) for f in report.files) == sorted(
        (p.name, "loaded" if p == newest else "superseded") for p in target.iterdir()
    )
    expected = gcp_expected(json_lines(newest))
    assert 0 < expected["with_resource_name"] < expected["rows"]  # detailed: usage rows name their resource
    assert raw_gcp(warehouse) == expected


def test_gcp_parquet_with_nested_records_as_structs(warehouse: Path, tmp_path: Path, gcp_month: Path) -> None:
    target = tmp_path / "billing_export" / gcp_month.name
    target.mkdir(parents=True)
    for extract in sorted(gcp_month.iterdir()):
        table = pa_json.read_json(extract, parse_options=GCP_PARSE_OPTIONS)
        pq.write_table(table, target / extract.name.replace(".json", ".parquet"))
    schema = pq.read_schema(newest_extract(target))
    # Nested records stay nested, as BigQuery's Parquet extract writes them.
    assert pa.types.is_struct(schema.field("service").type)
    assert pa.types.is_struct(schema.field("usage").type)
    assert pa.types.is_list(schema.field("credits").type)
    assert pa.types.is_struct(schema.field("credits").type.value_type)
    assert schema.field("cost").type == pa.float64()

    report = run_load("gcp", str(tmp_path / "billing_export"), warehouse)

    assert sorted(f.status for f in report.files) == ["loaded", "superseded"]
    expected = gcp_expected(json_lines(newest_extract(gcp_month)))
    # From the Parquet file itself too: its doubles are the JSON numbers exactly.
    records = parquet_rows(newest_extract(target))
    assert dsum(as_decimal(r["cost"]) for r in records) == expected["cost"]
    assert raw_gcp(warehouse) == expected
    flattened = query(
        warehouse,
        "select count(*) from raw_gcp_billing.billing_export where service_description is null "
        "or usage_amount_in_pricing_units is null or invoice_month is null",
    )
    assert flattened == [(0,)]


def test_gcp_standard_and_detailed_exports_both_load(tmp_path: Path, gcp_month: Path) -> None:
    """The standard export has no `resource` record; the detailed one has resource.name and global_name."""
    newest = newest_extract(gcp_month)
    records = [json.loads(line) for line in newest.read_text().splitlines() if line.strip()]
    standard = tmp_path / "exports" / "standard" / newest.name
    standard.parent.mkdir(parents=True)
    standard.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "resource"}) + "\n" for r in records))
    detailed = tmp_path / "exports" / "detailed" / newest.name
    detailed.parent.mkdir()
    shutil.copy(newest, detailed)

    results = {}
    for kind in ("standard", "detailed"):
        warehouse = tmp_path / kind / "warehouse" / "finops.duckdb"
        report = run_load("gcp", str(tmp_path / "exports" / kind), warehouse)
        assert [f.status for f in report.files] == ["loaded"]
        columns = {c for (c,) in query(warehouse, "select column_name from information_schema.columns")}
        results[kind] = (raw_gcp(warehouse), {"resource_name", "resource_global_name"} & columns)

    expected = gcp_expected(json_lines(newest))
    assert results["detailed"] == (expected, {"resource_name", "resource_global_name"})
    assert results["standard"] == ({**expected, "with_resource_name": 0}, set())


def export_fields(records: list[dict]) -> set[str]:
    """The raw column names a billing export's records should give: records flattened one level."""
    fields: set[str] = set()
    for key in {k for r in records for k in r}:
        nested = [r[key] for r in records if isinstance(r.get(key), dict)]
        fields |= {f"{key}_{sub}" for value in nested for sub in value} if nested else {key}
    return fields


def provider_columns(warehouse: Path, table: str) -> set[str]:
    """Raw columns other than the loader's and dlt's own (`_source_file`, `_dlt_id`, ...)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {c for c in con.sql(f"select * from {table} limit 0").columns if not c.startswith("_")}


@pytest.mark.parametrize("layout", ["jsonl", "parquet"])
def test_gcp_raw_columns_are_the_export_fields(warehouse: Path, tmp_path: Path, gcp_month: Path, layout: str) -> None:
    newest = newest_extract(gcp_month)
    # The demo's folder name (invoice_month=202609) as it is: DuckDB must not add a column for it either.
    target = tmp_path / "billing_export" / gcp_month.name / newest.name
    target.parent.mkdir(parents=True)
    if layout == "jsonl":
        shutil.copy(newest, target)
    else:
        target = target.with_suffix(".parquet")
        pq.write_table(pa_json.read_json(newest, parse_options=GCP_PARSE_OPTIONS), target)
    run_load("gcp", str(tmp_path / "billing_export"), warehouse)
    records = [json.loads(line) for line in newest.read_text().splitlines()]
    assert provider_columns(warehouse, "raw_gcp_billing.billing_export") == export_fields(records)


# --- AWS ---------------------------------------------------------------------------------------------------


def test_aws_legacy_cur_with_manifests(warehouse: Path, demo: Path) -> None:
    root = demo / "aws" / "cur"
    current, stale = [], []
    for manifest in sorted(root.rglob("*-Manifest.json")):
        body = json.loads(manifest.read_text())
        current += [manifest.parent / body["assemblyId"] / Path(k).name for k in body["reportKeys"]]
        stale += [p for p in manifest.parent.glob("*/*.csv.gz") if p.parent.name != body["assemblyId"]]
    assert len(current) == 2 and len(stale) == 1

    report = run_load("aws-cur", str(root), warehouse)

    assert sorted(report.deliveries) == sorted(p.parent.name for p in current)
    assert report.superseded_files == [str(stale[0])]
    expected = grouped(
        (
            (row["bill/PayerAccountId"], row["bill/BillingPeriodStartDate"][:7]),
            as_decimal(row["lineItem/UnblendedCost"]),
        )
        for path in current
        for row in csv_rows(path)
    )
    key = "bill_payer_account_id, left(bill_billing_period_start_date, 7)"
    assert raw_groups(warehouse, "raw_aws_cur.line_items", key, "line_item_unblended_cost") == expected
    assert query(warehouse, f"select count(*) from raw_aws_cur.line_items where _source_file = '{stale[0]}'") == [(0,)]
    assert query(warehouse, "select distinct _layout from raw_aws_cur.line_items") == [("cur_legacy",)]
    invoice = invoice_totals(demo)
    for period in ("2026-09", "2026-10"):
        row = invoice[("aws_cur", period)]
        assert expected[("111111111111", period)] == (int(row["row_count"]), Decimal(row["billed_total"]))


def test_aws_plain_folder_of_csvs(warehouse: Path, tmp_path: Path) -> None:
    """No manifest: every CSV (plain or gzipped) in one folder is one delivery."""
    with open(AWS_SAMPLE, newline="") as handle:
        header, *rows = list(csv.reader(handle))
    folder = tmp_path / "cur"
    write_csv(folder / "part-1.csv", header, rows[:640])
    write_csv(folder / "part-2.csv.gz", header, rows[640:])

    report = run_load("aws-cur", str(folder), warehouse)

    assert [(Path(f.file).name, f.status) for f in report.files] == [
        ("part-1.csv", "loaded"),
        ("part-2.csv.gz", "loaded"),
    ]
    assert len({f.delivery_id for f in report.files}) == 1
    index = header.index("lineItem/UnblendedCost")
    expected = {("123412340534", "2023-11"): (1281, dsum(row[index] for row in rows))}
    key = "bill_payer_account_id, left(bill_billing_period_start_date, 7)"
    assert raw_groups(warehouse, "raw_aws_cur.line_items", key, "line_item_unblended_cost") == expected


def test_aws_cur2_parquet_with_map_columns(warehouse: Path, demo: Path) -> None:
    root = demo / "aws" / "cur2"
    current, stale = [], []
    for manifest in sorted(root.rglob("*-Manifest.json")):
        body = json.loads(manifest.read_text())
        data = root / "finops-demo" / "data" / manifest.parent.name
        named = [data / Path(k).name for k in body["dataFiles"]]
        current += named
        stale += [p for p in data.glob("*.parquet") if p not in named]
    assert len(current) == 2 and len(stale) == 1
    schema = pq.read_schema(current[0])
    assert pa.types.is_map(schema.field("product").type) and pa.types.is_map(schema.field("resource_tags").type)

    report = run_load("aws-cur", str(root), warehouse)

    assert report.superseded_files == [str(stale[0])]
    expected_rows = []
    expected_json = {}
    for path in current:
        for line, row in enumerate(parquet_rows(path), start=1):
            period = row["bill_billing_period_start_date"].strftime("%Y-%m")
            expected_rows.append(((row["bill_payer_account_id"], period), as_decimal(row["line_item_unblended_cost"])))
            product = {k: v for k, v in row["product"] if v is not None}
            product |= {c.removeprefix("product_"): v for c, v in row.items() if c.startswith("product_") and v}
            tags = dict(row["resource_tags"]) or None
            expected_json[(str(path), line)] = (product, tags)
    key = "bill_payer_account_id, left(bill_billing_period_start_date, 7)"
    assert raw_groups(warehouse, "raw_aws_cur.line_items", key, "line_item_unblended_cost") == grouped(expected_rows)
    invoice = invoice_totals(demo)
    for period in ("2026-09", "2026-10"):
        row = invoice[("aws_cur2", period)]
        assert grouped(expected_rows)[("222222222222", period)] == (int(row["row_count"]), Decimal(row["billed_total"]))
    # The MAP columns arrive as JSON objects with every key and value as written.
    stored = {
        (file, line): (json.loads(product), json.loads(tags) if tags else None)
        for file, line, product, tags in query(
            warehouse, "select _source_file, _line_number, product, resource_tags from raw_aws_cur.line_items"
        )
    }
    assert stored == expected_json


def test_cur2_raw_columns_are_the_export_columns(warehouse: Path, demo: Path) -> None:
    root = demo / "aws" / "cur2"
    run_load("aws-cur", str(root), warehouse)
    names = set(pq.read_schema(next(root.rglob("*.parquet"))).names)
    # Static product_* columns fold into the product map; ARN columns get AWS's documented spelling.
    expected = {n.replace("_a_r_n", "_arn") for n in names if not n.startswith("product_")}
    assert provider_columns(warehouse, "raw_aws_cur.line_items") == expected


# --- layouts no loader knows -------------------------------------------------------------------------------

UNKNOWN = {
    "aws-cur": (
        "export.csv",
        "Date,Amount\n2026-01-01,1.00\n",
        "not an AWS CUR file; missing required columns: bill/PayerAccountId, bill/BillingPeriodStartDate, "
        "lineItem/LineItemType, lineItem/UsageStartDate, lineItem/UnblendedCost",
    ),
    "azure": (
        "export.csv",
        "Date,Amount\n2026-01-01,1.00\n",
        "not an Azure cost details export; missing required columns: billing_account_id, "
        "billing_period_start_date, subscription_id, cost_in_billing_currency or cost or pre_tax_cost",
    ),
    "gcp": (
        "export.jsonl",
        '{"date": "2026-01-01", "amount": 1.0}\n',
        "not a GCP billing export; missing required fields: billing_account_id, cost, usage_start_time, "
        "invoice_month, cost_type, currency",
    ),
}


@pytest.mark.parametrize("source", sorted(UNKNOWN))
def test_an_unknown_layout_is_logged_as_failed_naming_the_missing_columns(
    warehouse: Path, tmp_path: Path, source: str
) -> None:
    name, body, message = UNKNOWN[source]
    path = tmp_path / "export" / name
    path.parent.mkdir()
    path.write_text(body)
    report = run_load(source, str(path.parent), warehouse)
    assert [(f.status, f.rows_loaded) for f in report.files] == [("failed", 0)]
    assert report.files[0].error.endswith(message), report.files[0].error
    assert [(status, loaded) for _, status, loaded, _ in log_rows(warehouse)] == [("failed", 0)]
    assert log_rows(warehouse)[0][3].endswith(message)


def test_a_cur_without_the_cost_column_names_only_that_column(warehouse: Path, tmp_path: Path) -> None:
    with open(AWS_SAMPLE, newline="") as handle:
        header, *rows = list(csv.reader(handle))
    drop = header.index("lineItem/UnblendedCost")
    write_csv(
        tmp_path / "cur" / "report.csv", header[:drop] + header[drop + 1 :], [r[:drop] + r[drop + 1 :] for r in rows]
    )
    report = run_load("aws-cur", str(tmp_path / "cur"), warehouse)
    assert [f.status for f in report.files] == ["failed"]
    assert re.search(r"missing required columns: lineItem/UnblendedCost$", report.files[0].error)


def test_a_parquet_file_that_is_not_cur2_is_logged_as_failed(warehouse: Path, tmp_path: Path) -> None:
    path = tmp_path / "cur2" / "data.parquet"
    path.parent.mkdir()
    pq.write_table(pa.table({"bill_payer_account_id": ["1"], "amount": [1.0]}), path)
    report = run_load("aws-cur", str(path.parent), warehouse)
    assert [f.status for f in report.files] == ["failed"]
    assert report.files[0].error.endswith(
        "missing required columns: bill_billing_period_start_date, line_item_line_item_type, "
        "line_item_usage_start_date, line_item_unblended_cost"
    )


# --- every good fixture, loaded twice ----------------------------------------------------------------------

RAW_TABLES = {
    "aws-cur": "raw_aws_cur.line_items",
    "azure": "raw_azure_cost.cost_details",
    "gcp": "raw_gcp_billing.billing_export",
    "events": "raw_events.business_events",
}
# How each raw table is totalled: (group, amount). Events have no billing period; their revenue counts.
TOTALS = {
    "aws-cur": ("_billing_partition", "line_item_unblended_cost"),
    "azure": ("_billing_partition", "coalesce(cost_in_billing_currency, cost)"),
    "gcp": ("_billing_partition", "cost"),
    "events": ("event_type", "revenue"),
}
# Business events are upserted on event_id, so a second load writes the same rows again with its own
# load time; every other column must stay as it was.
LOAD_METADATA = {"events": ("_loaded_at", "_dlt_load_id", "_dlt_id")}


def good_fixtures(demo: Path) -> Iterator[tuple[str, Path]]:
    yield "aws-cur", AWS_SAMPLE.parent
    yield "azure", SAMPLES / "azure"
    yield "aws-cur", demo / "aws" / "cur"
    yield "aws-cur", demo / "aws" / "cur2"
    yield "azure", demo / "azure"
    yield "gcp", demo / "gcp"
    yield "events", demo / "events"


def snapshot(warehouse: Path, source: str, target: Path) -> int:
    """Copy the raw table as it is now to a Parquet file; returns its row count."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = [c for c in con.sql(f"select * from {RAW_TABLES[source]} limit 0").columns]
        keep = ", ".join(f'"{c}"' for c in columns if c not in LOAD_METADATA.get(source, ()))
        con.execute(f"copy (select {keep} from {RAW_TABLES[source]}) to '{target}' (format parquet)")
        return con.sql(f"select count(*) from '{target}'").fetchall()[0][0]


def differing_rows(warehouse: Path, source: str, before: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = ", ".join(f'"{c}"' for c in con.sql(f"select * from '{before}' limit 0").columns)
        now = f"select {columns} from {RAW_TABLES[source]}"
        then = f"select {columns} from '{before}'"
        missing = f"select count(*) from ({then} except all {now})"
        added = f"select count(*) from ({now} except all {then})"
        return con.sql(f"select ({missing}) + ({added})").fetchall()[0][0]


def test_loading_every_good_fixture_twice_changes_no_row_and_no_total(
    warehouse: Path, tmp_path: Path, demo: Path
) -> None:
    for index, (source, location) in enumerate(good_fixtures(demo)):
        first = run_load(source, str(location), warehouse)
        assert first.files and all(f.status in ("loaded", "superseded") for f in first.files), (location, first.files)
        before = tmp_path / f"before-{index}.parquet"
        rows = snapshot(warehouse, source, before)
        assert rows > 0
        totals = raw_groups(warehouse, RAW_TABLES[source], *TOTALS[source])
        second = run_load(source, str(location), warehouse)
        expected_second = {"loaded"} if source == "events" else {"duplicate", "superseded"}
        assert {f.status for f in second.files} <= expected_second, (location, second.files)
        assert second.rows_rejected == 0
        assert differing_rows(warehouse, source, before) == 0, location
        assert snapshot(warehouse, source, tmp_path / f"after-{index}.parquet") == rows
        assert raw_groups(warehouse, RAW_TABLES[source], *TOTALS[source]) == totals
