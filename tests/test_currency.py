"""Reporting-currency amounts: seed rates, the identity rate, loaded rates overriding the seed, missing rates.

A one-week demo across a month end (Azure bills in EUR, AWS and GCP in USD) is built once; the expected
amounts are computed here in Python from seeds/fx_rates.csv, independently of the SQL.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from conftest import REPO_ROOT, query

from finops_warehouse.dbt import DbtFailed, run_dbt
from finops_warehouse.demo import generate_demo
from ingestion.pipeline import run_load

# 2025-02-27 to 2025-03-05: two months whose seed EUR rates differ.
END_DATE = date(2025, 3, 5)
CENT_FRACTION = Decimal("0.000000000001")  # money scale: 12 places


def seed_rates() -> dict[tuple[str, str], Decimal]:
    """{(YYYY-MM, currency): rate to USD} from the seed file itself."""
    with open(REPO_ROOT / "seeds" / "fx_rates.csv", newline="") as handle:
        return {
            (row["rate_date"][:7], row["from_currency"]): Decimal(row["rate"])
            for row in csv.DictReader(handle)
            if row["to_currency"] == "USD"
        }


def converted(amount: Decimal, rate: Decimal) -> Decimal:
    return (amount * rate).quantize(CENT_FRACTION, rounding=ROUND_HALF_UP)


def eur_rows(warehouse: Path) -> list[tuple]:
    return query(
        warehouse,
        "select cast(ChargePeriodStart as date), BilledCost, EffectiveCost, x_ExchangeRate, "
        "x_BilledCostInReportingCurrency, x_EffectiveCostInReportingCurrency "
        "from marts.focus_costs where BillingCurrency = 'EUR'",
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("currency")
    generate_demo(root / "demo_data", days=7, seed=5, scale="small", end_date=END_DATE)
    warehouse = root / "built" / "finops.duckdb"
    for source, folder in (("aws-cur", "aws"), ("azure", "azure"), ("gcp", "gcp")):
        run_load(source, str(root / "demo_data" / folder), warehouse)
    run_dbt(["build"], warehouse, quiet=True)
    yield warehouse


@pytest.fixture
def warehouse(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "warehouse"
    shutil.copytree(built.parent, copy)
    monkeypatch.setenv("FINOPS_WAREHOUSE", str(copy / built.name))
    monkeypatch.setenv("RUNTIME__LOG_LEVEL", "ERROR")
    return copy / built.name


def test_euro_amounts_are_converted_at_the_seed_rate_of_their_month(built: Path) -> None:
    rates = seed_rates()
    # By hand, from the seed: one euro was 1.0413 dollars in February 2025 and 1.0807 in March.
    assert (rates[("2025-02", "EUR")], rates[("2025-03", "EUR")]) == (Decimal("1.0413"), Decimal("1.0807"))
    rows = eur_rows(built)
    assert {day.month for day, *_ in rows} == {2, 3}
    for day, billed, effective, rate, billed_usd, effective_usd in rows:
        expected_rate = rates[(f"{day:%Y-%m}", "EUR")]
        assert rate == expected_rate
        assert billed_usd == converted(billed, expected_rate)
        assert effective_usd == converted(effective, expected_rate)


def test_totals_across_currencies_add_up_in_the_reporting_currency(built: Path) -> None:
    rates = seed_rates()
    usd = query(built, "select sum(BilledCost) from marts.focus_costs where BillingCurrency = 'USD'")[0][0]
    eur_in_usd = sum(converted(billed, rates[(f"{day:%Y-%m}", "EUR")]) for day, billed, *_ in eur_rows(built))
    ((total, currencies, reporting),) = query(
        built,
        "select sum(x_BilledCostInReportingCurrency), count(distinct BillingCurrency), "
        "string_agg(distinct x_ReportingCurrency) from marts.focus_costs",
    )
    assert (currencies, reporting) == (2, "USD")
    assert total == usd + eur_in_usd


def test_the_reporting_currency_converts_at_one(built: Path) -> None:
    ((rows, mismatched),) = query(
        built,
        "select count(*), count(*) filter (where x_ExchangeRate <> 1 "
        "or x_BilledCostInReportingCurrency <> BilledCost or x_EffectiveCostInReportingCurrency <> EffectiveCost) "
        "from marts.focus_costs where BillingCurrency = 'USD'",
    )
    assert rows > 0
    assert mismatched == 0


def test_a_loaded_rate_overrides_the_seed_from_its_date(warehouse: Path, tmp_path: Path) -> None:
    rates_dir = tmp_path / "rates"
    rates_dir.mkdir()
    (rates_dir / "ecb.csv").write_text(
        "rate_date,from_currency,to_currency,rate\n"
        "2025-03-03,eur,USD,1.05\n"  # lower-case codes are normalised
        "2025-03-04,EUR,USD,not a rate\n"  # rejected, so 03-03's rate carries to 03-04 and 03-05
        "2025-03-01,EUR,USD,1.0807\n"  # the seed's own March rate, loaded: changes nothing
    )
    report = run_load("fx", str(rates_dir), warehouse)
    assert query(warehouse, "select line_number, reason from meta.rejected_rows where source = 'fx'") == [
        (3, "rate is not a positive number")
    ]
    assert [f.rows_rejected for f in report.files] == [1]

    run_dbt(["build"], warehouse, quiet=True)

    seed = seed_rates()
    for day, billed, _, rate, billed_usd, _ in eur_rows(warehouse):
        expected_rate = Decimal("1.05") if day >= date(2025, 3, 3) else seed[(f"{day:%Y-%m}", "EUR")]
        assert (day, rate, billed_usd) == (day, expected_rate, converted(billed, expected_rate))
    assert query(warehouse, "select count(*) from marts.focus_costs where x_ExchangeRate = 1.05")[0][0] > 0


def test_a_currency_without_a_rate_keeps_its_rows_and_fails_the_build(warehouse: Path) -> None:
    rows_before = query(warehouse, "select count(*), sum(BilledCost) from marts.focus_costs")

    # No rates into Swiss francs exist: every row lacks a rate.
    with pytest.raises(DbtFailed, match="focus_costs_every_row_has_an_exchange_rate"):
        run_dbt(["build", "--vars", "{reporting_currency: CHF}"], warehouse, quiet=True)

    assert query(warehouse, "select count(*), sum(BilledCost) from marts.focus_costs") == rows_before
    assert query(
        warehouse,
        "select distinct x_ReportingCurrency, x_ExchangeRate, x_BilledCostInReportingCurrency, "
        "x_EffectiveCostInReportingCurrency from marts.focus_costs",
    ) == [("CHF", None, None, None)]
