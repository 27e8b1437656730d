"""Smoke tests of the Streamlit dashboard against a small hand-made warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[1] / "dashboards" / "app.py"

# (ProviderName, BillingCurrency, ChargePeriodStart, ServiceCategory, BilledCost, EffectiveCost)
ROWS = [
    ("AWS", "USD", "2026-08-01 10:00:00", "Compute", "10.005", "8.0"),
    ("AWS", "USD", "2026-08-02 00:00:00", "Storage", "2.5", "2.5"),
    ("Google Cloud", "USD", "2026-08-02 00:00:00", "Compute", "1.25", "1.0"),
    ("Microsoft", "EUR", "2026-08-01 00:00:00", "Compute", "100.1", "90.05"),
    ("Microsoft", "EUR", "2026-09-01 00:00:00", "Networking", "0.004", "0.004"),
]


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    # Streamlit's caches are process-wide; each test gets its own warehouse and its own answers.
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "finops.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(
        """
        create table marts.focus_costs (
            BilledCost decimal(38, 10),
            EffectiveCost decimal(38, 10),
            BillingCurrency varchar,
            ChargePeriodStart timestamp,
            ProviderName varchar,
            ServiceCategory varchar,
            ServiceName varchar,
            SubAccountId varchar,
            SubAccountName varchar,
            ChargeCategory varchar,
            BillingPeriodStart timestamp,
            x_SourceProvider varchar,
        )
        """
    )
    con.executemany(
        """
        insert into marts.focus_costs values (
            $billed, $effective, $currency, $charged, $provider, $category, $category || ' service',
            'acct-1', 'Account 1', 'Usage', date_trunc('month', $charged::timestamp), lower($provider)
        )
        """,
        [
            {
                "provider": provider,
                "currency": currency,
                "charged": charged,
                "category": category,
                "billed": billed,
                "effective": effective,
            }
            for provider, currency, charged, category, billed, effective in ROWS
        ],
    )
    con.close()
    monkeypatch.setenv("FINOPS_WAREHOUSE", str(path))
    return path


def _run_app() -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=30)
    app.run()
    assert not app.exception, app.exception
    return app


def _metrics(app: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


def test_headline_totals_per_currency(warehouse: Path) -> None:
    app = _run_app()

    # 10.005 + 2.5 + 1.25 = 13.755 rounds half-up to 13.76: a float sum would give 13.75.
    assert _metrics(app) == {
        "Billed cost (EUR)": "EUR 100.10",  # 100.1 + 0.004
        "Effective cost (EUR)": "EUR 90.05",  # 90.05 + 0.004
        "Billed cost (USD)": "USD 13.76",
        "Effective cost (USD)": "USD 11.50",
    }
    assert len(app.get("vega_lite_chart")) == 4  # daily and by category, once per currency
    monthly = app.dataframe[0].value
    assert len(monthly) == 4  # AWS, Google Cloud, Microsoft in August; Microsoft in September


def test_provider_and_date_filters(warehouse: Path) -> None:
    app = _run_app()
    app.sidebar.multiselect[0].set_value(["Microsoft"]).run()
    assert _metrics(app) == {"Billed cost (EUR)": "EUR 100.10", "Effective cost (EUR)": "EUR 90.05"}

    app.sidebar.date_input[0].set_value((date(2026, 9, 1), date(2026, 9, 1))).run()
    assert not app.exception
    assert _metrics(app) == {"Billed cost (EUR)": "EUR 0.00", "Effective cost (EUR)": "EUR 0.00"}


def test_no_rows_in_range_explains_itself(warehouse: Path) -> None:
    app = _run_app()
    app.sidebar.multiselect[0].set_value([]).run()

    assert not app.exception
    assert not app.metric
    assert any("No cost rows in this range" in info.value for info in app.info)


def test_missing_warehouse_tells_how_to_build_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINOPS_WAREHOUSE", str(tmp_path / "absent.duckdb"))

    app = _run_app()

    [warning] = app.warning
    assert "absent.duckdb" in warning.value
    assert "make demo" in warning.value
    assert "finops build" in warning.value


def test_missing_mart_tells_how_to_build_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    monkeypatch.setenv("FINOPS_WAREHOUSE", str(path))

    app = _run_app()

    [warning] = app.warning
    assert "marts.focus_costs" in warning.value
    assert "make demo" in warning.value
