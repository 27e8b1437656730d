"""Tests for the demo data generator: layouts, semantics, determinism and exact expected totals."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import json
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from finops_warehouse.demo import DemoResult, generate_demo

END = dt.date(2026, 8, 31)  # the open month (August) is complete, July is a 4-day partial month
DAYS = 35
PLAIN_DECIMAL = re.compile(r"^-?\d+(\.\d*[1-9])?$")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    calls: list[tuple[str, int, int]] = []
    result = generate_demo(
        tmp_path_factory.mktemp("demo"), days=DAYS, seed=7, end_date=END, progress=lambda *a: calls.append(a)
    )
    result.progress_calls = calls  # type: ignore[attr-defined]
    return result


def _read_csv_gz(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _dec(text: str) -> Decimal:
    return Decimal(text) if text else Decimal(0)


def _expected(demo: DemoResult) -> dict[tuple[str, str], dict[str, str]]:
    with demo.expected_totals.open(newline="") as handle:
        return {(r["provider"], r["billing_period"]): r for r in csv.DictReader(handle)}


# ----- arguments and determinism ----------------------------------------------------------------------------


@pytest.mark.parametrize(("days", "scale"), [(90, "huge"), (5, "small"), (5000, "small"), ("90", "small")])
def test_bad_arguments_raise_value_error(tmp_path: Path, days: object, scale: str) -> None:
    with pytest.raises(ValueError, match=r"scale|days"):
        generate_demo(tmp_path, days=days, scale=scale, end_date=END)  # type: ignore[arg-type]


def _digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_files(demo: DemoResult, tmp_path: Path) -> None:
    again = generate_demo(tmp_path, days=DAYS, seed=7, end_date=END)
    assert _digest(again.out) == _digest(demo.out)
    other = generate_demo(tmp_path / "other", days=DAYS, seed=8, end_date=END)
    assert _digest(other.out) != _digest(demo.out)


def test_result_reports_files_rows_and_progress(demo: DemoResult) -> None:
    assert set(demo.files) >= {"aws_cur", "aws_cur2", "azure", "gcp", "events", "labels", "expected"}
    assert all(p.exists() for paths in demo.files.values() for p in paths)
    assert demo.rows["azure"]["actual_current"] > 0 and demo.rows["aws_cur"]["superseded"] > 0
    assert demo.line_items > 50_000
    steps = {step for step, _, _ in demo.progress_calls}  # type: ignore[attr-defined]
    assert steps == {"aws_cur", "aws_cur2", "azure", "gcp", "events"}


# ----- AWS legacy CUR -----------------------------------------------------------------------------------------


def _cur_root(demo: DemoResult) -> Path:
    return demo.out / "aws" / "cur"


def _current_cur_files(demo: DemoResult) -> dict[str, list[Path]]:
    root = _cur_root(demo)
    out = {}
    for manifest_path in sorted(root.glob("finops-demo/cur-daily/*/cur-daily-Manifest.json")):
        manifest = json.loads(manifest_path.read_text())
        out[manifest["billingPeriod"]["start"][:6]] = [root / key for key in manifest["reportKeys"]]
    return out


def test_legacy_manifest_names_existing_assembly_with_matching_header(demo: DemoResult) -> None:
    for manifest_path in _cur_root(demo).glob("finops-demo/cur-daily/*/cur-daily-Manifest.json"):
        manifest = json.loads(manifest_path.read_text())
        assert (manifest_path.parent / manifest["assemblyId"]).is_dir()
        assert manifest["compression"] == "GZIP" and manifest["contentType"] == "text/csv"
        expected_header = [f"{c['category']}/{c['name']}" for c in manifest["columns"]]
        for key in manifest["reportKeys"]:
            path = _cur_root(demo) / key
            assert manifest["assemblyId"] in key
            with gzip.open(path, "rt") as handle:
                assert next(csv.reader(handle)) == expected_header


def test_open_month_has_an_older_restated_assembly(demo: DemoResult) -> None:
    august = _cur_root(demo) / "finops-demo" / "cur-daily" / "20260801-20260901"
    assemblies = sorted(p for p in august.iterdir() if p.is_dir())
    assert len(assemblies) == 2
    current_id = json.loads((august / "cur-daily-Manifest.json").read_text())["assemblyId"]
    older = next(p for p in assemblies if p.name != current_id)
    old_rows = _read_csv_gz(next(older.glob("*.csv.gz")))
    new_rows = _read_csv_gz(next((august / current_id).glob("*.csv.gz")))
    old_days = {r["lineItem/UsageStartDate"] for r in old_rows if r["lineItem/LineItemType"] == "Usage"}
    new_days = {r["lineItem/UsageStartDate"] for r in new_rows if r["lineItem/LineItemType"] == "Usage"}
    assert new_days - old_days == {"2026-08-31T00:00:00Z"}
    old_cost = {r["identity/LineItemId"]: r["lineItem/UnblendedCost"] for r in old_rows}
    restated = [
        r
        for r in new_rows
        if r["identity/LineItemId"] in old_cost and old_cost[r["identity/LineItemId"]] != r["lineItem/UnblendedCost"]
    ]
    assert restated, "the newer assembly must restate amounts of overlapping days"
    assert all(r["bill/InvoiceId"] == "" for r in new_rows)


def test_legacy_line_item_semantics(demo: DemoResult) -> None:
    rows = [r for path in _current_cur_files(demo)["202608"] for r in _read_csv_gz(path)]
    by_type = defaultdict(list)
    for r in rows:
        by_type[r["lineItem/LineItemType"]].append(r)
    assert {"Usage", "SavingsPlanCoveredUsage", "SavingsPlanNegation", "DiscountedUsage", "SavingsPlanRecurringFee",
            "RIFee", "Fee", "Tax", "Credit"} <= set(by_type)  # fmt: skip
    covered = {(r["lineItem/ResourceId"], r["lineItem/UsageStartDate"]): r for r in by_type["SavingsPlanCoveredUsage"]}
    for neg in by_type["SavingsPlanNegation"]:
        match = covered[(neg["lineItem/ResourceId"], neg["lineItem/UsageStartDate"])]
        assert _dec(neg["lineItem/UnblendedCost"]) == -_dec(match["lineItem/UnblendedCost"])
        assert neg["savingsPlan/SavingsPlanARN"] == match["savingsPlan/SavingsPlanARN"] != ""
    used_by_day: dict[str, Decimal] = defaultdict(Decimal)
    for r in by_type["SavingsPlanCoveredUsage"]:
        used_by_day[r["lineItem/UsageStartDate"]] += _dec(r["savingsPlan/SavingsPlanEffectiveCost"])
    for fee in by_type["SavingsPlanRecurringFee"]:
        assert _dec(fee["savingsPlan/UsedCommitment"]) == used_by_day[fee["lineItem/UsageStartDate"]]
        assert _dec(fee["savingsPlan/UsedCommitment"]) <= _dec(fee["savingsPlan/TotalCommitmentToDate"])
        assert fee["lineItem/UsageAccountId"] == "111111111111"
    for ri_fee in by_type["RIFee"]:
        arn = ri_fee["reservation/ReservationARN"]
        used = sum(
            _dec(r["reservation/EffectiveCost"])
            for r in by_type["DiscountedUsage"]
            if r["reservation/ReservationARN"] == arn
        )
        assert _dec(ri_fee["reservation/UnusedRecurringFee"]) == _dec(ri_fee["lineItem/UnblendedCost"]) - used
        assert ri_fee["lineItem/UsageStartDate"] == "2026-08-01T00:00:00Z"
    assert all(_dec(r["lineItem/UnblendedCost"]) == 0 for r in by_type["DiscountedUsage"])
    assert all(r["lineItem/TaxType"] == "Sales Tax" for r in by_type["Tax"])
    for r in rows:
        for column in ("lineItem/UnblendedCost", "lineItem/UsageAmount", "reservation/EffectiveCost"):
            assert r[column] == "" or PLAIN_DECIMAL.match(r[column]), (column, r[column])


def test_refund_is_in_the_closed_month_with_invoice(demo: DemoResult) -> None:
    rows = [r for path in _current_cur_files(demo)["202607"] for r in _read_csv_gz(path)]
    refunds = [r for r in rows if r["lineItem/LineItemType"] == "Refund"]
    assert len(refunds) == 1 and refunds[0]["bill/BillType"] == "Refund"
    assert _dec(refunds[0]["lineItem/UnblendedCost"]) < 0
    assert all(r["bill/InvoiceId"] for r in rows)


def _aws_totals(rows: list[dict[str, Decimal]]) -> tuple[Decimal, Decimal]:
    billed = effective = Decimal(0)
    for r in rows:
        kind, cost = r["type"], r["cost"]
        billed += cost
        effective += {
            "SavingsPlanCoveredUsage": r["sp_eff"],
            "SavingsPlanNegation": Decimal(0),
            "SavingsPlanRecurringFee": r["sp_total"] - r["sp_used"],
            "DiscountedUsage": r["ri_eff"],
            "RIFee": r["ri_unused_upfront"] + r["ri_unused_recurring"],
        }.get(kind, cost)
    return billed, effective


_LEGACY_FIELDS = {
    "cost": "lineItem/UnblendedCost",
    "sp_eff": "savingsPlan/SavingsPlanEffectiveCost",
    "sp_total": "savingsPlan/TotalCommitmentToDate",
    "sp_used": "savingsPlan/UsedCommitment",
    "ri_eff": "reservation/EffectiveCost",
    "ri_unused_upfront": "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
    "ri_unused_recurring": "reservation/UnusedRecurringFee",
}
_CUR2_FIELDS = {
    "cost": "line_item_unblended_cost",
    "sp_eff": "savings_plan_savings_plan_effective_cost",
    "sp_total": "savings_plan_total_commitment_to_date",
    "sp_used": "savings_plan_used_commitment",
    "ri_eff": "reservation_effective_cost",
    "ri_unused_upfront": "reservation_unused_amortized_upfront_fee_for_billing_period",
    "ri_unused_recurring": "reservation_unused_recurring_fee",
}


def test_expected_totals_match_legacy_cur_files(demo: DemoResult) -> None:
    expected = _expected(demo)
    for month, paths in _current_cur_files(demo).items():
        raw = [r for p in paths for r in _read_csv_gz(p)]
        rows = [{"type": r["lineItem/LineItemType"], **{k: _dec(r[c]) for k, c in _LEGACY_FIELDS.items()}} for r in raw]
        billed, effective = _aws_totals(rows)
        row = expected[("aws_cur", f"{month[:4]}-{month[4:]}")]
        assert (Decimal(row["billed_total"]), Decimal(row["effective_total"])) == (billed, effective)
        assert int(row["row_count"]) == len(rows)


# ----- AWS CUR 2.0 --------------------------------------------------------------------------------------------


def _cur2_current(demo: DemoResult) -> dict[str, list[Path]]:
    root = demo.out / "aws" / "cur2"
    out = {}
    for manifest_path in sorted(root.glob("finops-demo/metadata/BILLING_PERIOD=*/finops-demo-Manifest.json")):
        manifest = json.loads(manifest_path.read_text())
        out[manifest["billingPeriod"]["start"][:7]] = [root / key for key in manifest["dataFiles"]]
    return out


def test_cur2_parquet_has_map_columns_and_manifest(demo: DemoResult) -> None:
    current = _cur2_current(demo)
    assert set(current) == {"2026-07", "2026-08"}
    august_dir = demo.out / "aws" / "cur2" / "finops-demo" / "data" / "BILLING_PERIOD=2026-08"
    assert len(list(august_dir.glob("*.snappy.parquet"))) == 2  # the superseded delivery stays beside it
    schema = pq.read_schema(current["2026-08"][0])
    for name in ("product", "resource_tags"):
        field_type = schema.field(name).type
        assert pa.types.is_map(field_type)
        assert field_type.key_type == pa.string() and field_type.item_type == pa.string()
    assert str(schema.field("line_item_unblended_cost").type) == "double"
    table = pq.read_table(current["2026-08"][0], columns=["product", "resource_tags", "line_item_net_unblended_cost"])
    products = table.column("product").to_pylist()
    assert any(dict(p).get("product_name") for p in products)
    tags = [dict(t) for t in table.column("resource_tags").to_pylist()]
    assert any("user_team" in t for t in tags) and any("user_Team" in t or "user_TEAM" in t for t in tags)
    assert table.column("line_item_net_unblended_cost").null_count == table.num_rows


def test_expected_totals_match_cur2_files(demo: DemoResult) -> None:
    expected = _expected(demo)
    for month, paths in _cur2_current(demo).items():
        rows = []
        for path in paths:
            table = pq.read_table(path).to_pylist()
            for r in table:
                # repr() of these doubles is the short decimal they were written from.
                values = {k: Decimal(repr(r[c])) if r[c] is not None else Decimal(0) for k, c in _CUR2_FIELDS.items()}
                rows.append({"type": r["line_item_line_item_type"], **values})
        billed, effective = _aws_totals(rows)
        row = expected[("aws_cur2", month)]
        assert (Decimal(row["billed_total"]), Decimal(row["effective_total"])) == (billed, effective)


# ----- Azure --------------------------------------------------------------------------------------------------


def _azure_current(demo: DemoResult, export: str) -> dict[str, list[Path]]:
    root = demo.out / "azure"
    latest: dict[str, tuple[str, list[Path]]] = {}
    for manifest_path in root.glob(f"exports/finops-demo-{export}/*/*/manifest.json"):
        manifest = json.loads(manifest_path.read_text())
        month = manifest["runInfo"]["startDate"][:7]
        submitted = manifest["runInfo"]["submittedTime"]
        if month not in latest or submitted > latest[month][0]:
            latest[month] = (submitted, [root / b["blobName"] for b in manifest["blobs"]])
    return {month: paths for month, (_, paths) in latest.items()}


def test_azure_open_month_has_two_runs(demo: DemoResult) -> None:
    runs = list((demo.out / "azure" / "exports" / "finops-demo-actual" / "20260801-20260831").iterdir())
    assert len(runs) == 2
    manifest = json.loads((runs[0] / "manifest.json").read_text())
    assert manifest["exportConfig"]["dataVersion"] == "2023-12-01-preview"
    assert manifest["deliveryConfig"]["compressionMode"] == "gzip"
    assert manifest["blobs"][0]["dataRowCount"] == manifest["dataRowCount"]


def test_azure_actual_and_amortized_agree_for_a_full_month(demo: DemoResult) -> None:
    actual = [r for p in _azure_current(demo, "actual")["2026-08"] for r in _read_csv_gz(p)]
    amortized = [r for p in _azure_current(demo, "amortized")["2026-08"] for r in _read_csv_gz(p)]
    total = lambda rows: sum(_dec(r["costInBillingCurrency"]) for r in rows)  # noqa: E731
    assert total(actual) == total(amortized)
    charge_types = lambda rows: {r["chargeType"] for r in rows}  # noqa: E731
    assert {"Purchase", "Usage"} <= charge_types(actual)
    assert "UnusedReservation" not in charge_types(actual) and "UnusedSavingsPlan" not in charge_types(actual)
    assert {"UnusedReservation", "UnusedSavingsPlan"} <= charge_types(amortized)
    commitment_purchases = [r for r in amortized if r["chargeType"] == "Purchase" and r["pricingModel"] != "OnDemand"]
    assert not commitment_purchases
    covered = [r for r in actual if r["chargeType"] == "Usage" and r["pricingModel"] in ("Reservation", "SavingsPlan")]
    assert covered and all(_dec(r["costInBillingCurrency"]) == 0 and r["benefitId"] for r in covered)
    marketplace = [r for r in actual if r["publisherType"] == "Marketplace"]
    assert len(marketplace) == 1 and marketplace[0]["pricingModel"] == "OnDemand"
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4}", r["date"]) for r in actual)
    assert actual[0]["billingPeriodEndDate"] == "08/31/2026" and actual[0]["billingCurrency"] == "EUR"
    tags = [json.loads(r["tags"]) for r in actual if r["tags"]]
    assert any("team" in t for t in tags) and any(("Team" in t) or ("TEAM" in t) or ("owner_team" in t) for t in tags)


def test_expected_totals_match_azure_files(demo: DemoResult) -> None:
    expected = _expected(demo)
    actual, amortized = _azure_current(demo, "actual"), _azure_current(demo, "amortized")
    for month, paths in actual.items():
        rows = [r for p in paths for r in _read_csv_gz(p)]
        billed = sum(_dec(r["costInBillingCurrency"]) for r in rows)
        effective = sum(_dec(r["costInBillingCurrency"]) for p in amortized[month] for r in _read_csv_gz(p))
        row = expected[("azure", month)]
        assert (Decimal(row["billed_total"]), Decimal(row["effective_total"])) == (billed, effective)
        assert int(row["row_count"]) == len(rows)
        assert all(r["invoiceId"] == "" for r in rows) == (month == "2026-08")
        refunds = [r for r in rows if r["chargeType"] == "Refund"]
        assert len(refunds) == (month == "2026-07") and all(r["previousInvoiceId"] for r in refunds)


# ----- GCP ----------------------------------------------------------------------------------------------------


def _gcp_files(demo: DemoResult) -> dict[str, list[Path]]:
    root = demo.out / "gcp" / "billing_export"
    return {p.name.split("=")[1]: sorted(p.glob("*.json")) for p in sorted(root.iterdir())}


def _json_lines(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line, parse_float=Decimal) for line in handle]


def test_gcp_lines_parse_with_nested_fields(demo: DemoResult) -> None:
    files = _gcp_files(demo)
    assert set(files) == {"202607", "202608"}
    assert len(files["202607"]) == 2  # a later extract restates the closed month
    rows = _json_lines(files["202608"][-1])
    first = rows[0]
    assert first["billing_account_id"] == "01AB23-45CD67-89EF01"
    assert first["service"]["description"] and first["project"]["ancestors"][0]["resource_name"].startswith("projects/")
    assert first["usage_start_time"].endswith(" UTC") and first["invoice"]["month"] == "202608"
    credit_types = {c["type"] for r in rows for c in r["credits"]}
    assert credit_types == {"SUSTAINED_USAGE_DISCOUNT", "COMMITTED_USAGE_DISCOUNT", "PROMOTION", "FREE_TIER"}
    assert all(c["amount"] < 0 for r in rows for c in r["credits"])
    assert {r["cost_type"] for r in rows} == {"regular", "tax"}
    assert any(r["sku"]["description"].startswith("Commitment v1:") for r in rows)
    assert all(r["cost"].as_tuple().exponent >= -6 for r in rows if isinstance(r["cost"], Decimal))


def test_gcp_late_adjustment_only_in_newer_extract(demo: DemoResult) -> None:
    older, newer = _gcp_files(demo)["202607"]
    assert not [r for r in _json_lines(older) if r["cost_type"] == "adjustment"]
    adjustments = [r for r in _json_lines(newer) if r["cost_type"] == "adjustment"]
    assert len(adjustments) == 1 and adjustments[0]["adjustment_info"]["mode"]
    assert adjustments[0]["usage_start_time"] < "2026-07-01"


def test_expected_totals_match_gcp_files(demo: DemoResult) -> None:
    expected = _expected(demo)
    for month, paths in _gcp_files(demo).items():
        rows = _json_lines(paths[-1])
        billed = sum(Decimal(r["cost"]) + sum(Decimal(c["amount"]) for c in r["credits"]) for r in rows)
        row = expected[("gcp", f"{month[:4]}-{month[4:]}")]
        assert Decimal(row["billed_total"]) == billed == Decimal(row["effective_total"])
        assert int(row["row_count"]) == len(rows)


# ----- events and labels --------------------------------------------------------------------------------------


def test_events_have_late_arrivals_and_personal_data(demo: DemoResult) -> None:
    folders = sorted((demo.out / "events" / "business_events").iterdir())
    assert len(folders) == DAYS
    late = 0
    for folder in folders:
        day = folder.name.removeprefix("date=")
        events = [json.loads(line) for line in (folder / "events-000.jsonl").read_text("utf-8").splitlines()]
        late += sum(e["occurred_at"][:10] < day for e in events)
        for e in events:
            assert e["event_type"] in ("transaction", "active_user", "api_call")
            assert (e["revenue"] is not None) == (e["event_type"] == "transaction")
            assert (e["user_email"] is not None) == (e["event_type"] != "api_call")
    assert late > 0


def test_labels_describe_spikes_a_leak_and_a_drop(demo: DemoResult) -> None:
    with demo.anomalies.open(newline="") as handle:
        labels = list(csv.DictReader(handle))
    kinds = [r["kind"] for r in labels]
    assert kinds.count("spike") >= 3 and "leak" in kinds and "drop" in kinds
    leak = next(r for r in labels if r["kind"] == "leak")
    length = dt.date.fromisoformat(leak["end_date"]) - dt.date.fromisoformat(leak["start_date"])
    assert length.days >= 13
    assert all(Decimal(r["expected_daily_cost"]) > 0 for r in labels)


def test_legacy_spike_stands_out_from_its_baseline(demo: DemoResult) -> None:
    with demo.anomalies.open(newline="") as handle:
        spike = next(r for r in csv.DictReader(handle) if r["provider"] == "aws_cur" and r["kind"] == "spike")
    daily: dict[str, Decimal] = defaultdict(Decimal)
    for paths in _current_cur_files(demo).values():
        for path in paths:
            for r in _read_csv_gz(path):
                if (
                    r["lineItem/UsageAccountId"] == spike["sub_account_id"]
                    and r["lineItem/ProductCode"] == spike["service_name"]
                ):
                    daily[r["lineItem/UsageStartDate"][:10]] += _dec(r["lineItem/UnblendedCost"])
    assert daily[spike["start_date"]] > 3 * Decimal(spike["expected_daily_cost"])
