"""AppTest tests of every dashboard page on the demo warehouse: the headline numbers are the marts' own.

Each expected value is computed here straight from the marts with DuckDB, independently of the dashboard's
queries; only the display format (`charts.format_money`, `format_percent`) is shared. test_dashboard_e2e.py
checks the same headlines in a real browser. Also here: the URL filters, empty states, the benchmark's calling
convention, and the queries run through the Snowflake connector (on fakesnow).
"""

from __future__ import annotations

import inspect
import shutil
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import streamlit as st
from conftest import query
from streamlit.testing.v1 import AppTest

from dashboards import data
from dashboards.charts import format_money, format_percent

APP = Path(__file__).resolve().parents[1] / "dashboards" / "app.py"


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    # Streamlit's caches are process-wide; each test gets its own warehouse and its own answers.
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def demo(demo_warehouse: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    warehouse, _ = demo_warehouse
    monkeypatch.setenv("FINOPS_WAREHOUSE", str(warehouse))
    return warehouse


def default_range(warehouse: Path) -> tuple[date, date]:
    """The sidebar's default: the last 30 days of data."""
    first, last = query(
        warehouse, "select min(ChargePeriodStart)::date, max(ChargePeriodStart)::date from marts.focus_costs"
    )[0]
    return max(first, last - timedelta(days=29)), last


def run(page: str | None = None, params: dict[str, str | list[str]] | None = None) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.query_params.update(params or {})
    app.run()
    if page:
        app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


def metrics(app: AppTest) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.metric}


# What each page's headline metrics must say on the demo warehouse with the default filters, from the marts.


def overview_headline(warehouse: Path) -> dict[str, str]:
    _, end = default_range(warehouse)
    month = end.replace(day=1)
    to_date = query(
        warehouse,
        "select BillingCurrency, sum(allocated_effective_cost) from marts.allocated_costs "
        f"where charge_date between '{month}' and '{end}' group by 1",
    )
    forecast = query(
        warehouse,
        "select BillingCurrency, sum(forecast_month_end_cost) from marts.budget_vs_actual "
        f"where scope_type = 'business_unit' and charge_month = '{month}' group by 1",
    )
    return {
        **{f"Month to date ({currency})": format_money(amount, currency) for currency, amount in to_date},
        **{f"Month-end forecast ({currency})": format_money(amount, currency) for currency, amount in forecast},
    }


def showback_headline(warehouse: Path) -> dict[str, str]:
    start, end = default_range(warehouse)
    totals = query(
        warehouse,
        "select BillingCurrency, sum(allocated_effective_cost) from marts.allocated_costs "
        f"where charge_date between '{start}' and '{end}' group by 1",
    )
    return {f"Effective cost ({currency})": format_money(amount, currency) for currency, amount in totals}


def unit_economics_headline(warehouse: Path) -> dict[str, str]:
    start, end = default_range(warehouse)
    rows = query(
        warehouse,
        "select product_name, currency, sum(allocated_cost), sum(transactions) from marts.unit_costs_daily "
        f"where activity_date between '{start}' and '{end}' group by 1, 2 having sum(transactions) > 0",
    )
    return {
        f"{product} ({currency})": format_money(cost / transactions, currency)
        for product, currency, cost, transactions in rows
    }


def forecast_headline(warehouse: Path) -> dict[str, str]:
    _, end = default_range(warehouse)
    rows = query(
        warehouse,
        "select BillingCurrency, sum(forecast_month_end_cost), count(*), "
        "count(*) filter (where budget_status in ('over_budget', 'projected_over_budget')) "
        "from marts.budget_vs_actual "
        f"where scope_type = 'business_unit' and charge_month = '{end.replace(day=1)}' group by 1",
    )
    headline = {}
    for currency, forecast, scopes, over in rows:
        headline[f"Month-end forecast ({currency})"] = format_money(forecast, currency)
        headline[f"Over budget or projected to be ({currency})"] = f"{over} of {scopes} business units"
    return headline


def anomalies_headline(warehouse: Path) -> dict[str, str]:
    start, end = default_range(warehouse)
    episodes = query(
        warehouse,
        "select anomaly_id, max(severity = 'CRITICAL'), bool_or(is_ongoing), sum(dollar_impact) "
        "from marts.cost_anomalies where anomaly_id is not null "
        f"and anomaly_end_date >= '{start}' and anomaly_start_date <= '{end}' "
        "group by 1 having not bool_and(is_suppressed)",
    )
    return {
        "Anomalies": str(len(episodes)),
        "Critical": str(sum(critical for _, critical, _, _ in episodes)),
        "Ongoing": str(sum(ongoing for _, _, ongoing, _ in episodes)),
        "Net impact (USD)": format_money(sum(impact for *_, impact in episodes), "USD"),
    }


def commitments_headline(warehouse: Path) -> dict[str, str]:
    start, end = default_range(warehouse)
    rows = query(
        warehouse,
        "select BillingCurrency, sum(used_commitment_cost) filter (where is_commitment_cost_linked), "
        "sum(commitment_cost) filter (where is_commitment_cost_linked), sum(unused_commitment_cost), "
        "sum(net_savings) filter (where is_commitment_cost_linked) from marts.commitment_utilization "
        f"where charge_month between '{start.replace(day=1)}' and '{end}' group by 1",
    )
    headline = {}
    for currency, used, committed, unused, savings in rows:
        headline[f"Utilisation ({currency})"] = format_percent(used / committed)
        headline[f"Unused commitment ({currency})"] = format_money(unused, currency)
        headline[f"Net savings ({currency})"] = format_money(savings, currency)
    return headline


def savings_headline(warehouse: Path) -> dict[str, str]:
    (currency,) = {c for (c,) in query(warehouse, "select distinct reporting_currency from marts.recommendations")}
    total, count, high = query(
        warehouse,
        "select sum(estimated_monthly_saving), count(*), "
        "coalesce(sum(estimated_monthly_saving) filter (where confidence = 'high'), 0) from marts.recommendations",
    )[0]
    return {
        f"Saving per month ({currency})": format_money(total, currency),
        "Opportunities": f"{count:,}",
        f"High confidence ({currency})": format_money(high, currency),
    }


def data_quality_headline(warehouse: Path) -> dict[str, str]:
    partitions = query(
        warehouse, "select count(distinct (x_BillingPartition, BillingCurrency)) from marts.focus_costs"
    )[0][0]
    loaded, rejected = query(
        warehouse,
        "select list(distinct source) filter (where status in ('loaded', 'partial')), sum(rows_rejected) "
        "from meta.load_log",
    )[0]
    # Loaded minutes ago by the fixture, so every source loaded is within its SLA.
    within = len(set(loaded) & set(data.SOURCE_SLA_HOURS))
    return {
        "Sources within SLA": f"{within} of {len(data.SOURCE_SLA_HOURS)}",
        "Rows rejected": f"{rejected:,}",
        # Reconciled exactly: test_demo_pipeline proves the demo's FOCUS totals equal its invoices.
        "Invoices reconciled": f"{partitions} of {partitions}",
    }


# Page file, URL path and headline of every page.
PAGES = (
    ("views/cost_overview.py", "", overview_headline),
    ("views/showback.py", "showback", showback_headline),
    ("views/unit_economics.py", "unit-economics", unit_economics_headline),
    ("views/forecast_budgets.py", "forecast", forecast_headline),
    ("views/anomalies.py", "anomalies", anomalies_headline),
    ("views/commitments.py", "commitments", commitments_headline),
    ("views/savings.py", "savings", savings_headline),
    ("views/data_quality.py", "data-quality", data_quality_headline),
)


@pytest.mark.parametrize(("page", "headline"), [(page, headline) for page, _, headline in PAGES])
def test_every_page_shows_the_marts_headline_numbers(demo: Path, page: str, headline: Callable[[Path], dict]) -> None:
    app = run(page)

    assert metrics(app) == headline(demo)
    assert app.get("vega_lite_chart"), "every page has a chart"


def test_overview_compares_the_forecast_with_the_budget_and_lists_movers(demo: Path) -> None:
    start, end = default_range(demo)
    budgets = query(
        demo,
        "select BillingCurrency, sum(budget_amount) from marts.budget_vs_actual "
        f"where scope_type = 'business_unit' and charge_month = '{end.replace(day=1)}' group by 1",
    )

    app = run()

    for currency, budget in budgets:
        [metric] = [m for m in app.metric if m.label == f"Month-end forecast ({currency})"]
        assert metric.proto.delta.endswith(f"vs budget {format_money(budget, currency)}")
    assert len(app.dataframe[0].value) == data.TOP_MOVERS
    assert app.query_params == {"start": start.isoformat(), "end": end.isoformat()}


def test_filters_come_from_the_url_and_go_back_to_it(demo: Path) -> None:
    # A shared link may name a provider by its display name; alert links use the code.
    app = run(params={"provider": ["AWS", "gcp"], "team": "sre", "start": "2026-10-01", "end": "2026-10-15"})

    assert app.sidebar.multiselect(key="provider").value == ["aws", "gcp"]
    assert app.sidebar.multiselect(key="team").value == ["sre"]
    assert app.sidebar.date_input(key="start").value == date(2026, 10, 1)
    assert app.query_params == {"provider": ["aws", "gcp"], "team": "sre", "start": "2026-10-01", "end": "2026-10-15"}

    app.sidebar.multiselect(key="provider").set_value(["azure"]).run()
    app.sidebar.multiselect(key="business_unit").set_value(["commerce"]).run()

    # sre is a platform team: picking commerce drops it rather than filtering everything out.
    assert app.sidebar.multiselect(key="team").value == []
    assert app.query_params == {
        "provider": "azure", "business_unit": "commerce", "start": "2026-10-01", "end": "2026-10-15"
    }  # fmt: skip
    app.switch_page("views/showback.py").run()
    assert not app.exception
    assert app.query_params["business_unit"] == "commerce", "the filters follow the user to the next page"


def test_showback_drills_from_business_units_to_teams(demo: Path) -> None:
    start, end = default_range(demo)
    rows = query(
        demo,
        "select business_unit, team, BillingCurrency, sum(allocated_effective_cost) from marts.allocated_costs "
        f"where charge_date between '{start}' and '{end}' group by 1, 2, 3",
    )

    app = run("views/showback.py")

    units = app.dataframe[0].value
    assert len(units) == len({(unit, currency) for unit, _, currency, _ in rows})
    assert len(app.get("download_button")) == 2, "each table downloads as shown"

    app.selectbox(key="showback_unit").set_value("commerce").run()

    teams = app.dataframe[0].value
    shown = {(row["Team"], row["Currency"]): row["Effective cost"] for _, row in teams.iterrows()}
    assert shown == {
        (team, currency): cost.quantize(Decimal("0.01"), ROUND_HALF_UP)
        for unit, team, currency, cost in rows
        if unit == "commerce"
    }
    assert set(app.dataframe[1].value["Service category"]), "the category breakdown of commerce"


def test_unit_economics_switches_the_unit(demo: Path) -> None:
    app = run("views/unit_economics.py")
    assert len(app.get("vega_lite_chart")) == 2, "unit cost beside volume"

    app.radio(key="unit").set_value("1,000 API calls").run()

    assert not app.exception
    assert len(app.metric) == 4, "every product serves API calls"
    assert all(value.startswith("USD ") for value in metrics(app).values())


def test_an_alert_link_opens_its_anomaly(demo: Path) -> None:
    anomaly_id, provider, team, first, last, impact = query(
        demo,
        "select anomaly_id, provider, team, min(anomaly_start_date), max(anomaly_end_date), sum(dollar_impact) "
        "from marts.cost_anomalies where is_anomaly and team is not null group by 1, 2, 3 order by 4 limit 1",
    )[0]
    link = {
        "anomaly": anomaly_id, "provider": provider, "team": team, "start": first.isoformat(), "end": last.isoformat()
    }  # fmt: skip

    app = run("views/anomalies.py", params=link)

    assert app.sidebar.multiselect(key="provider").value == [provider]
    assert app.selectbox(key="anomaly_pick").value == anomaly_id
    assert metrics(app)["Net impact (USD)"] == format_money(impact, "USD")
    assert app.query_params == link


def test_no_anomalies_in_range_explains_itself(demo: Path) -> None:
    first = query(demo, "select min(ChargePeriodStart)::date from marts.focus_costs")[0][0]

    app = run("views/anomalies.py", params={"start": first.isoformat(), "end": first.isoformat()})

    assert any("No anomalies in this range" in info.value for info in app.info)
    assert not app.metric


def test_data_quality_lists_each_source_against_its_sla(demo: Path) -> None:
    app = run("views/data_quality.py")

    freshness = app.dataframe[0].value.set_index("source")
    assert list(freshness.index) == list(data.SOURCE_SLA_HOURS)
    assert freshness.loc["fx", "status"] == "never loaded"
    assert freshness.loc["aws-cur", "status"] == "within SLA"
    assert any("No rows rejected" in success.value for success in app.success)


def test_missing_warehouse_tells_how_to_build_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINOPS_WAREHOUSE", str(tmp_path / "absent.duckdb"))

    app = run()

    [warning] = app.warning
    assert "absent.duckdb" in warning.value
    assert "make demo" in warning.value
    assert "finops build" in warning.value


def test_missing_mart_tells_how_to_build_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    monkeypatch.setenv("FINOPS_WAREHOUSE", str(path))

    app = run("views/anomalies.py")

    [warning] = app.warning
    assert "marts.focus_costs" in warning.value
    assert "make demo" in warning.value


def test_query_functions_keep_the_benchmark_calling_convention() -> None:
    # `finops bench` calls each cached query as (warehouse) or (warehouse, first, last, providers).
    for name in dir(data):
        function = getattr(data, name)
        if type(function).__name__ != "CachedFunc" or name.startswith("_"):
            continue
        parameters = inspect.signature(function.__wrapped__).parameters
        required = [p for p, spec in parameters.items() if spec.default is inspect.Parameter.empty]
        assert required in (["warehouse"], ["warehouse", "start", "end", "providers"]), name


def test_placeholders_become_qmark_parameters_in_order() -> None:
    sql = "select * from t where a = $start and b in ($p_0, $p_1) and c >= $start"
    assert data._bind(sql, {"start": 1, "p_0": "x", "p_1": "y"}) == (
        "select * from t where a = ? and b in (?, ?) and c >= ?",
        [1, "x", "y", 1],
    )


@pytest.mark.parametrize(
    ("start", "end", "previous"),
    [
        # A month earlier, so the fees of the 1st are in both periods.
        (date(2026, 10, 23), date(2026, 11, 21), (date(2026, 9, 23), date(2026, 10, 21))),
        # Month-end aligned, and whole months against whole months.
        (date(2026, 10, 2), date(2026, 10, 31), (date(2026, 9, 2), date(2026, 9, 30))),
        (date(2026, 3, 1), date(2026, 3, 31), (date(2026, 2, 1), date(2026, 2, 28))),
        # No 29th in February, and a range longer than a month: as many days just before.
        (date(2026, 3, 29), date(2026, 3, 31), (date(2026, 3, 26), date(2026, 3, 28))),
        (date(2026, 8, 1), date(2026, 11, 21), (date(2026, 4, 10), date(2026, 7, 31))),
    ],
)
def test_movers_compare_with_the_same_days_a_month_earlier(start: date, end: date, previous: tuple[date, date]) -> None:
    assert data.previous_period(start, end) == previous


@pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result")  # fakesnow's own, about its internals
def test_the_same_queries_run_through_the_snowflake_connection(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fakesnow translates Snowflake SQL onto DuckDB behind the Snowflake connector: every query text and its
    qmark parameters go through the connector path `FINOPS_DASHBOARD_ENGINE=snowflake` takes."""
    fakesnow = pytest.importorskip("fakesnow")
    import snowflake.connector

    shutil.copyfile(demo, tmp_path / "FINOPS.db")  # fakesnow's database FINOPS, a copy so the demo stays as built
    first, last = query(
        demo, "select min(ChargePeriodStart)::date, max(ChargePeriodStart)::date from marts.focus_costs"
    )[0]
    providers = tuple(data.provider_names.__wrapped__(str(demo)))
    # fakesnow's information_schema lists no views, so the invoice_reconciliation view looks absent there.
    skipped = {"table_names", "invoice_reconciliation"}
    functions = {
        name: function.__wrapped__
        for name, function in vars(data).items()
        if type(function).__name__ == "CachedFunc" and not name.startswith("_") and name not in skipped
    }

    def arguments(function: Callable[..., object], warehouse: str) -> tuple[object, ...]:
        only_warehouse = list(inspect.signature(function).parameters) == ["warehouse"]
        return (warehouse,) if only_warehouse else (warehouse, first, last, providers)

    on_duckdb = {name: function(*arguments(function, str(demo))) for name, function in functions.items()}
    with fakesnow.patch(db_path=tmp_path):
        monkeypatch.setattr(snowflake.connector, "paramstyle", "qmark")  # as st.connection("snowflake") sets it
        connection = snowflake.connector.connect(database="FINOPS", schema="MARTS")
        monkeypatch.setattr(st, "connection", lambda name: connection)
        for name, function in functions.items():
            result = function(*arguments(function, data.SNOWFLAKE))
            expected = on_duckdb[name]
            assert len(result) == len(expected), name
            if isinstance(expected, pd.DataFrame):
                assert list(result.columns) == list(expected.columns), name


def test_data_quality_without_the_load_log_says_so(demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A warehouse built without `finops load`, or a Snowflake role that cannot read meta.
    copy = tmp_path / "no_meta.duckdb"
    shutil.copyfile(demo, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("drop schema meta cascade")
    monkeypatch.setenv("FINOPS_WAREHOUSE", str(copy))

    app = run("views/data_quality.py")

    assert any("no `meta.load_log`" in info.value for info in app.info)
    assert "Sources within SLA" not in metrics(app)
    assert not app.success, "no claim that nothing was rejected"


def test_savings_follow_the_owner_filter_sorted_by_saving_with_a_download(demo: Path) -> None:
    app = run("views/savings.py", params={"team": "storefront"})

    table = app.dataframe[0].value
    savings = list(table["estimated_monthly_saving"])
    assert savings == sorted(savings, reverse=True)
    assert set(table["owner_team"]) == {"storefront"}
    expected = query(demo, "select count(*) from marts.recommendations where owner_team = 'storefront'")[0][0]
    assert len(table) == expected > 0
    assert len(app.get("download_button")) == 1


def test_data_quality_shows_the_watch_cycles_and_their_latency(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "watched.duckdb"
    shutil.copyfile(demo, copy)
    with duckdb.connect(str(copy)) as con:
        # The demo never ran `finops watch`, so its marts.pipeline_runs is empty: two cycles stand in for it.
        con.execute("create table marts.runs as select * from marts.pipeline_runs where false")
        con.execute("drop view marts.pipeline_runs")
        con.execute("alter table marts.runs rename to pipeline_runs")
        con.execute(
            """
            insert into marts.pipeline_runs (
                run_id, loader_source, status, landed_at, started_at, finished_at, file_count, rows_loaded,
                rows_rejected, models_rebuilt, detect_seconds, load_seconds, build_seconds, latency_seconds, error
            ) values
            ('aws-cur:1', 'aws-cur', 'interrupted', '2026-11-01 06:00:00', '2026-11-01 06:00:02', null,
             3, 0, 0, 0, 2.0, 4.5, null, null, 'the watcher stopped during this cycle'),
            ('aws-cur:2', 'aws-cur', 'succeeded', '2026-11-01 06:00:00', '2026-11-01 06:01:00',
             '2026-11-01 06:01:21.5', 3, 1200, 0, 41, 60.0, 5.0, 16.5, 81.5, null)
            """
        )
    monkeypatch.setenv("FINOPS_WAREHOUSE", str(copy))

    app = run("views/data_quality.py")

    [runs] = [frame.value for frame in app.dataframe if "run_id" in frame.value.columns]
    assert list(runs["run_id"]) == ["aws-cur:2", "aws-cur:1"]
    assert list(runs["status"]) == ["succeeded", "interrupted"]
    assert any("The latest succeeded cycle took 81.5 s" in caption.value for caption in app.caption)
    assert not any("No `finops watch` cycles" in info.value for info in app.info)


def test_data_quality_without_watch_cycles_says_how_to_start_one(demo: Path) -> None:
    app = run("views/data_quality.py")

    assert any("No `finops watch` cycles recorded" in info.value for info in app.info)
