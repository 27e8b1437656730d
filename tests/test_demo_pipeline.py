"""The default demo, end to end: generated, loaded, built, reconciled, reloaded and validated."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import query

from finops_warehouse.dbt import run_dbt
from finops_warehouse.export import export_focus
from finops_warehouse.focus_validation import validate_focus_file
from ingestion.pipeline import run_load

RAW_TABLES = (
    "raw_aws_cur.line_items",
    "raw_azure_cost.cost_details",
    "raw_gcp_billing.billing_export",
    "raw_events.business_events",
)
DEMO_SOURCES = (("aws-cur", "aws"), ("azure", "azure"), ("gcp", "gcp"), ("events", "events"))


def expected_totals(demo_out: Path) -> dict[tuple[str, str, str, str], tuple[Decimal, Decimal]]:
    """The generator's own invoice totals, computed from its integers, not from any file we load."""
    with open(demo_out / "expected" / "invoice_totals.csv", newline="") as handle:
        return {
            (row["provider"], row["billing_account_id"], row["billing_period"], row["currency"]): (
                Decimal(row["billed_total"]),
                Decimal(row["effective_total"]),
            )
            for row in csv.DictReader(handle)
        }


def focus_totals(warehouse: Path) -> dict[tuple[str, str, str, str], tuple[Decimal, Decimal]]:
    """FOCUS totals keyed like the generator's: provider layout, native billing account, period, currency."""
    rows = query(
        warehouse,
        """
        select x_SourceProvider, x_SourceLayout, x_BillingPartition, BillingCurrency,
               sum(BilledCost), sum(EffectiveCost)
        from marts.focus_costs
        group by all
        """,
    )
    totals: dict[tuple[str, str, str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for provider, layout, partition, currency, billed, effective in rows:
        parts = partition.split("|")
        if provider == "aws":
            key = ("aws_cur2" if layout == "cur2" else "aws_cur", parts[0], parts[1], currency)
        elif provider == "azure":
            key = ("azure", parts[1], parts[2], currency)
        else:
            key = ("gcp", parts[0], f"{parts[1][:4]}-{parts[1][4:]}", currency)
        totals[key][0] += billed
        totals[key][1] += effective
    return {key: (billed, effective) for key, (billed, effective) in totals.items()}


def table_fingerprints(warehouse: Path) -> dict[str, tuple]:
    fingerprints = {table: query(warehouse, f"select count(*) from {table}")[0] for table in RAW_TABLES}
    fingerprints["marts.focus_costs"] = query(
        warehouse,
        "select count(*), sum(BilledCost), sum(EffectiveCost), count(distinct x_RowKey) from marts.focus_costs",
    )[0]
    return fingerprints


def test_billed_and_effective_cost_equal_the_generated_invoices_exactly(demo_warehouse: tuple[Path, Path]) -> None:
    warehouse, out = demo_warehouse
    expected = expected_totals(out)
    assert {key[0] for key in expected} == {"aws_cur", "aws_cur2", "azure", "gcp"}
    assert focus_totals(warehouse) == expected


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
