"""The default demo, end to end: generated, loaded, built, reconciled, reloaded and validated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import query

from finops_warehouse.dbt import run_dbt
from finops_warehouse.export import export_focus
from finops_warehouse.focus_validation import validate_focus_file
from finops_warehouse.reconcile import expected_totals, focus_totals, mismatches
from ingestion.pipeline import run_load

RAW_TABLES = (
    "raw_aws_cur.line_items",
    "raw_azure_cost.cost_details",
    "raw_gcp_billing.billing_export",
    "raw_events.business_events",
)
DEMO_SOURCES = (("aws-cur", "aws"), ("azure", "azure"), ("gcp", "gcp"), ("events", "events"))


def table_fingerprints(warehouse: Path) -> dict[str, tuple]:
    fingerprints = {table: query(warehouse, f"select count(*) from {table}")[0] for table in RAW_TABLES}
    fingerprints["marts.focus_costs"] = query(
        warehouse,
        "select count(*), sum(BilledCost), sum(EffectiveCost), count(distinct x_RowKey) from marts.focus_costs",
    )[0]
    return fingerprints


def test_billed_and_effective_cost_equal_the_generated_invoices_exactly(demo_warehouse: tuple[Path, Path]) -> None:
    warehouse, out = demo_warehouse
    expected = expected_totals(out / "expected" / "invoice_totals.csv")
    assert {key[0] for key in expected} == {"aws_cur", "aws_cur2", "azure", "gcp"}
    assert focus_totals(warehouse) == expected
    assert mismatches(warehouse, out / "expected" / "invoice_totals.csv") == []


def test_every_provider_and_month_is_present(demo_warehouse: tuple[Path, Path]) -> None:
    warehouse, _ = demo_warehouse
    rows = query(
        warehouse,
        "select x_SourceProvider, count(distinct strftime(BillingPeriodStart, '%Y-%m')), count(*) "
        "from marts.focus_costs group by 1 order by 1",
    )
    assert [provider for provider, *_ in rows] == ["aws", "azure", "gcp"]
    assert all(months >= 3 and count > 1000 for _, months, count in rows)


def test_tags_are_normalised_and_originals_kept(demo_warehouse: tuple[Path, Path]) -> None:
    warehouse, _ = demo_warehouse
    tag_sets = query(warehouse, "select distinct Tags, x_SourceTags from marts.focus_costs where Tags is not null")
    assert tag_sets
    drifted = 0
    for tags, original in tag_sets:
        keys = list(json.loads(tags))
        assert all(key == key.lower() and not key.startswith("user") for key in keys), keys
        drifted += any(key != key.lower() for key in json.loads(original))
    assert drifted > 0, "the demo plants tag-case drift; some originals must differ from the normalised keys"


def test_loading_the_same_files_again_changes_nothing(demo_warehouse: tuple[Path, Path]) -> None:
    warehouse, out = demo_warehouse
    before = table_fingerprints(warehouse)
    for source, folder in DEMO_SOURCES:
        run_load(source, str(out / folder), warehouse)
    run_dbt(["build"], warehouse, quiet=True)
    assert table_fingerprints(warehouse) == before


@pytest.mark.parametrize("suffix", [".parquet"])
def test_exported_demo_passes_focus_validator(demo_warehouse: tuple[Path, Path], tmp_path: Path, suffix: str) -> None:
    warehouse, _ = demo_warehouse
    export = tmp_path / f"focus{suffix}"
    assert export_focus(warehouse, export) > 0
    result = validate_focus_file(export, applicability_all=True)
    assert result.ok, result.summary_line()
