"""The only module that touches the warehouse: one cached connection and cached, parameterised queries.

Pages read the marts (and `meta`, the loaders' own log, for data quality) through the query functions
below, never through SQL of their own. Every query function is a plain top-level function taking the
warehouse key and then, for the date-ranged ones, `start, end, providers[, business_units, teams]`:
`finops bench` times each of them with exactly those arguments. An empty filter tuple means "all".

The query text is the same on both engines: lower-case SQL without DuckDB-only syntax, values bound as
`$name` placeholders that `_bind` turns into qmark (`?`) parameters, which DuckDB and Streamlit's
Snowflake connection both take. `FINOPS_DASHBOARD_ENGINE=snowflake` is the only switch (see `_cursor`).
Money stays DECIMAL (Python `Decimal`) unless a query casts it to double, which only chart series do,
after summing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import streamlit as st
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WAREHOUSE = REPO_ROOT / "warehouse" / "finops.duckdb"
ENGINE_ENV = "FINOPS_DASHBOARD_ENGINE"
SNOWFLAKE = "snowflake"
# The warehouse is rebuilt in batch (`finops build`), so a few minutes of staleness is fine.
QUERY_TTL = timedelta(minutes=5)
BUILD_HINT = "Run `make demo` (demo data) or `finops build` (your own exports) to create it."

# The dbt source each loader writes (`finops load <loader>`); their SLAs are the dbt var source_sla_hours.
DBT_SOURCE_OF_LOADER = {
    "aws-cur": "aws_cur",
    "azure": "azure_cost",
    "gcp": "gcp_billing",
    "events": "events",
    "fx": "fx",
}
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM")
TOP_MOVERS = 10
REJECTED_ROWS_SHOWN = 1000
PIPELINE_RUNS_SHOWN = 200
# Days of an anomaly's series drawn around it: its four-week baseline before, a week after.
ANOMALY_CONTEXT_BEFORE_DAYS = 28
ANOMALY_CONTEXT_AFTER_DAYS = 7

_PLACEHOLDER = re.compile(r"\$([a-z_][a-z0-9_]*)")


def source_sla_hours(project_file: Path = REPO_ROOT / "dbt_project.yml") -> dict[str, int]:
    """Per loader, how old its latest successful load may be before the data-quality page calls it late.

    The `warn` hours of the dbt var `source_sla_hours`, the same figure `dbt source freshness` warns at, read
    from the project file so the page and dbt cannot disagree.
    """
    slas = yaml.safe_load(project_file.read_text())["vars"]["source_sla_hours"]
    return {loader: int(slas[source]["warn"]) for loader, source in DBT_SOURCE_OF_LOADER.items()}


SOURCE_SLA_HOURS = source_sla_hours()


class WarehouseUnavailable(Exception):
    """The warehouse file or the FOCUS mart is missing; the message tells the user what to run."""


def warehouse_path() -> Path:
    """The warehouse named by FINOPS_WAREHOUSE, else `warehouse/finops.duckdb` in the repository."""
    configured = os.environ.get("FINOPS_WAREHOUSE")
    return Path(configured).expanduser().resolve() if configured else DEFAULT_WAREHOUSE


def _engine() -> str:
    return os.environ.get(ENGINE_ENV, "duckdb").strip().lower()


def open_warehouse() -> str:
    """Check that the warehouse and its FOCUS mart exist; return the key the query functions take.

    Raises:
        WarehouseUnavailable: with a message naming the file and the command that builds it.
    """
    if _engine() == SNOWFLAKE:
        key, where = SNOWFLAKE, "The Snowflake connection"
    else:
        path = warehouse_path()
        if not path.is_file():
            raise WarehouseUnavailable(f"No warehouse at `{path}`. {BUILD_HINT}")
        key, where = str(path), f"The warehouse `{path}`"
    if "marts.focus_costs" not in table_names(key):
        raise WarehouseUnavailable(f"{where} has no `marts.focus_costs` table yet. {BUILD_HINT}")
    return key


@st.cache_resource(show_spinner=False)
def _connect(path: str) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(path, read_only=True)


def _cursor(warehouse: str) -> Any:
    """A DB-API cursor: the one place the engine is chosen."""
    if warehouse == SNOWFLAKE:
        # The connector's own cursor rather than `conn.query`, whose pandas result turns NUMBER(38,12)
        # into floats; fetchall() returns Decimal on both engines.
        return st.connection(SNOWFLAKE).cursor()
    # A cursor per query: Streamlit serves sessions on several threads and a DuckDB connection is not
    # thread-safe, while its cursors (connections to the same database) are.
    return _connect(warehouse).cursor()


def _bind(sql: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """`$name` placeholders to qmark: the text both engines run, and the values in placeholder order."""
    return _PLACEHOLDER.sub("?", sql), [params[name] for name in _PLACEHOLDER.findall(sql)]


def _execute(warehouse: str, sql: str, params: dict[str, Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Lower-case column names (Snowflake upper-cases unquoted aliases) and rows, Decimal kept."""
    text, values = _bind(sql, params)
    with _cursor(warehouse) as cursor:
        cursor.execute(text, values)
        return [column[0].lower() for column in cursor.description], cursor.fetchall()


def _rows(warehouse: str, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    return _execute(warehouse, sql, params or {})[1]


def _frame(warehouse: str, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    columns, rows = _execute(warehouse, sql, params or {})
    return pd.DataFrame(rows, columns=columns)


def _in(column: str, name: str, values: Iterable[str]) -> tuple[str, dict[str, Any]]:
    """`column in ($name_0, ...)`; with nothing picked, no condition: an empty filter means all."""
    params = {f"{name}_{index}": value for index, value in enumerate(values)}
    if not params:
        return "true", {}
    return f"{column} in ({', '.join('$' + param for param in params)})", params


def _where(*conditions: tuple[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {}
    for _, values in conditions:
        params.update(values)
    return " and ".join(sql for sql, _ in conditions), params


def _allocated_filter(
    start: date, end: date, providers: tuple[str, ...], business_units: tuple[str, ...], teams: tuple[str, ...]
) -> tuple[str, dict[str, Any]]:
    return _where(
        ("charge_date between $start and $end", {"start": start, "end": end}),
        _in("x_SourceProvider", "provider", providers),
        _in("business_unit", "business_unit", business_units),
        _in("team", "team", teams),
    )


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def table_names(warehouse: str) -> set[str]:
    """`schema.table` of every table and view the dashboard may read."""
    sql = """
        select lower(table_schema) || '.' || lower(table_name)
        from information_schema.tables
        where lower(table_schema) in ('marts', 'meta')
    """
    return {row[0] for row in _rows(warehouse, sql)}


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def provider_names(warehouse: str) -> dict[str, str]:
    """Display name (FOCUS ProviderName) per provider code (`x_SourceProvider`: aws, azure, gcp).

    The codes are what the filters and every query take, and what alert links carry; iterating the
    result gives them.
    """
    sql = """
        select x_SourceProvider as provider, min(ProviderName) as provider_name
        from marts.focus_costs
        group by x_SourceProvider
        order by provider_name
    """
    return dict(_rows(warehouse, sql))


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def charge_date_bounds(warehouse: str) -> tuple[date, date] | None:
    """First and last charge day in the FOCUS mart, or None when it is empty."""
    sql = "select cast(min(ChargePeriodStart) as date), cast(max(ChargePeriodStart) as date) from marts.focus_costs"
    first, last = _rows(warehouse, sql)[0]
    return (first, last) if first is not None else None


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def reporting_currency(warehouse: str) -> str:
    """The one currency forecasts, anomalies, unit costs and cross-currency charts are expressed in."""
    return _rows(warehouse, "select max(x_ReportingCurrency) from marts.focus_costs")[0][0]


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def teams_by_business_unit(warehouse: str) -> dict[str, list[str]]:
    """The teams cost is allocated to, per business unit."""
    sql = """
        select distinct business_unit, team
        from marts.allocated_costs
        where business_unit is not null and team is not null
        order by business_unit, team
    """
    teams: dict[str, list[str]] = {}
    for business_unit, team in _rows(warehouse, sql):
        teams.setdefault(business_unit, []).append(team)
    return teams


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def spend_by_currency(
    warehouse: str,
    start: date,
    end: date,
    providers: tuple[str, ...],
    business_units: tuple[str, ...] = (),
    teams: tuple[str, ...] = (),
) -> dict[str, tuple[Decimal, Decimal]]:
    """Billed and effective cost per billing currency (never added across currencies), exact.

    Read from `allocated_costs`, which adds up exactly to `focus_costs` and carries the team.
    """
    where, params = _allocated_filter(start, end, providers, business_units, teams)
    sql = f"""
        select
            BillingCurrency as currency,
            sum(allocated_billed_cost) as billed_cost,
            sum(allocated_effective_cost) as effective_cost
        from marts.allocated_costs
        where {where}
        group by BillingCurrency
        order by currency
    """
    return {currency: (billed, effective) for currency, billed, effective in _rows(warehouse, sql, params)}


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def daily_spend(
    warehouse: str,
    start: date,
    end: date,
    providers: tuple[str, ...],
    business_units: tuple[str, ...] = (),
    teams: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Effective cost per day, provider, business unit, team and billing currency, as floats for charts.

    `reporting_cost` is the same cost in the reporting currency (each row's own exchange rate), the unit
    the forecasts use, so providers billed in different currencies can share one axis.
    """
    where, params = _allocated_filter(start, end, providers, business_units, teams)
    sql = f"""
        select
            charge_date,
            x_SourceProvider as provider,
            business_unit,
            team,
            BillingCurrency as currency,
            cast(sum(allocated_effective_cost) as double) as effective_cost,
            cast(sum(allocated_effective_cost * x_ExchangeRate) as double) as reporting_cost
        from marts.allocated_costs
        where {where}
        group by charge_date, x_SourceProvider, business_unit, team, BillingCurrency
        order by charge_date, provider, business_unit, team, currency
    """
    return _frame(warehouse, sql, params)


def _month_earlier(day: date) -> date:
    """The same day of the previous month, or that month's last day when it is shorter."""
    last_of_previous = day.replace(day=1) - timedelta(days=1)
    return last_of_previous.replace(day=min(day.day, last_of_previous.day))


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period a range is compared with: the same days a month earlier, so monthly fees on the 1st fall in
    both or neither (a range ending on a month's last day compares with the previous month's last day).

    Where that would overlap the range, or the start's day does not exist a month earlier, it is as many
    days just before the range.
    """
    earlier_start, earlier_end = _month_earlier(start), _month_earlier(end)
    if earlier_start.day == start.day and earlier_end < start:
        return earlier_start, earlier_end
    return start - (end - start) - timedelta(days=1), start - timedelta(days=1)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def top_movers(
    warehouse: str,
    start: date,
    end: date,
    providers: tuple[str, ...],
    business_units: tuple[str, ...] = (),
    teams: tuple[str, ...] = (),
) -> pd.DataFrame:
    """The service and team pairs whose effective cost changed most against the previous period.

    The previous period is `previous_period(start, end)`. Amounts are exact and in billing currency; the
    ranking compares changes in the reporting currency, so a change in EUR and one in USD are ranked
    fairly without adding them.
    """
    previous_start, previous_end = previous_period(start, end)
    where, params = _allocated_filter(previous_start, end, providers, business_units, teams)
    sql = f"""
        with periods as (
            select
                ServiceName as service_name,
                team,
                BillingCurrency as currency,
                sum(
                    case when charge_date <= $previous_end then allocated_effective_cost else 0 end
                ) as previous_cost,
                sum(case when charge_date >= $current_start then allocated_effective_cost else 0 end) as current_cost,
                sum(
                    case
                        when charge_date >= $current_start then allocated_effective_cost * x_ExchangeRate
                        when charge_date <= $previous_end then -allocated_effective_cost * x_ExchangeRate
                        else 0
                    end
                ) as reporting_change
            from marts.allocated_costs
            where {where}
            group by ServiceName, team, BillingCurrency
        )
        select
            service_name,
            team,
            currency,
            previous_cost,
            current_cost,
            current_cost - previous_cost as change
        from periods
        where reporting_change <> 0
        order by abs(reporting_change) desc, service_name, team, currency
        limit {TOP_MOVERS}
    """
    return _frame(warehouse, sql, {**params, "current_start": start, "previous_end": previous_end})


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def showback(
    warehouse: str,
    start: date,
    end: date,
    providers: tuple[str, ...],
    business_units: tuple[str, ...] = (),
    teams: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Billed, effective and shared effective cost per business unit, team, service category and currency.

    Exact (Decimal). The grain is small (teams x categories x currencies), so pages roll it up to business
    units or categories themselves.
    """
    where, params = _allocated_filter(start, end, providers, business_units, teams)
    sql = f"""
        select
            business_unit,
            team,
            ServiceCategory as service_category,
            BillingCurrency as currency,
            sum(allocated_billed_cost) as billed_cost,
            sum(allocated_effective_cost) as effective_cost,
            sum(
                case when left(allocation_method, 6) = 'shared' then allocated_effective_cost else 0 end
            ) as shared_effective_cost
        from marts.allocated_costs
        where {where}
        group by business_unit, team, ServiceCategory, BillingCurrency
        order by business_unit, team, service_category, currency
    """
    return _frame(warehouse, sql, params)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def budget_vs_actual(warehouse: str) -> pd.DataFrame:
    """Every budget scope (business unit or team) per month and currency with its month-end forecast.

    One row per scope, month and currency: small enough for pages to pick months and scopes from.
    """
    sql = """
        select
            charge_month,
            scope_type,
            scope_key,
            BillingCurrency as currency,
            budget_amount,
            actual_effective_cost_mtd,
            data_through_date,
            days_elapsed,
            days_in_month,
            linear_month_end_cost,
            forecast_month_end_cost,
            projected_variance,
            projected_budget_ratio,
            budget_status
        from marts.budget_vs_actual
        order by charge_month, scope_type, scope_key, currency
    """
    return _frame(warehouse, sql)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def cost_forecasts(warehouse: str) -> pd.DataFrame:
    """Every forecast series (total, provider, service category, business unit, team), as floats for charts."""
    sql = """
        select
            series_type,
            series_key,
            currency,
            forecast_date,
            model,
            cast(predicted_cost as double) as predicted_cost,
            cast(lower_80 as double) as lower_80,
            cast(upper_80 as double) as upper_80,
            cast(lower_95 as double) as lower_95,
            cast(upper_95 as double) as upper_95
        from marts.cost_forecasts
        order by series_type, series_key, currency, forecast_date
    """
    return _frame(warehouse, sql)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def forecast_accuracy(warehouse: str) -> pd.DataFrame:
    """The backtest of the model each series uses."""
    sql = """
        select
            series_type,
            series_key,
            currency,
            model,
            mape,
            coverage_80,
            coverage_95,
            mae,
            history_days,
            data_through
        from marts.forecast_accuracy
        where is_selected
        order by series_type, series_key, currency
    """
    return _frame(warehouse, sql)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def unit_costs_daily(warehouse: str) -> pd.DataFrame:
    """Cost, volumes and unit costs per product and day (reporting currency), exact.

    Products x days is small, so pages pick dates, business units and owning teams from it.
    """
    sql = """
        select
            activity_date,
            product,
            product_name,
            owner_team,
            business_unit,
            currency,
            allocated_cost,
            transactions,
            active_users,
            api_calls,
            revenue,
            cost_per_transaction,
            cost_per_active_user,
            cost_per_1k_api_calls
        from marts.unit_costs_daily
        order by activity_date, product
    """
    return _frame(warehouse, sql)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def unit_cost_trends(warehouse: str) -> pd.DataFrame:
    """Per product and volume metric: does unit cost fall as volume grows? With the product's owners."""
    sql = """
        with owners as (
            select distinct product, product_name, owner_team, business_unit, currency
            from marts.unit_costs_daily
        )
        select
            trends.product,
            owners.product_name,
            owners.owner_team,
            owners.business_unit,
            owners.currency,
            trends.volume_metric,
            trends.first_week_start,
            trends.last_week_start,
            trends.weeks,
            trends.first_week_unit_cost,
            trends.last_week_unit_cost,
            trends.elasticity,
            trends.r_squared,
            trends.trend
        from marts.unit_cost_trends as trends
        left join owners on trends.product = owners.product
        order by trends.product, trends.volume_metric
    """
    return _frame(warehouse, sql)


def _anomaly_filter(
    start: date, end: date, providers: tuple[str, ...], business_units: tuple[str, ...], teams: tuple[str, ...]
) -> tuple[str, dict[str, Any]]:
    """Flagged days of the episodes that overlap the range (an alert link's range is its episode's)."""
    return _where(
        (
            "anomaly_id is not null and anomaly_end_date >= $start and anomaly_start_date <= $end",
            {"start": start, "end": end},
        ),
        _in("provider", "provider", providers),
        _in("business_unit", "business_unit", business_units),
        _in("team", "team", teams),
    )


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def anomaly_episodes(
    warehouse: str,
    start: date,
    end: date,
    providers: tuple[str, ...],
    business_units: tuple[str, ...] = (),
    teams: tuple[str, ...] = (),
) -> pd.DataFrame:
    """One row per anomaly episode overlapping the range: worst severity, impact (exact), peak deviation.

    Suppressed episodes (every flagged day matched a known cost event) are included and marked.
    """
    where, params = _anomaly_filter(start, end, providers, business_units, teams)
    sql = f"""
        select
            anomaly_id,
            case max(case severity when 'CRITICAL' then 3 when 'HIGH' then 2 else 1 end)
                when 3 then 'CRITICAL' when 2 then 'HIGH' else 'MEDIUM'
            end as severity,
            max(direction) as direction,
            max(provider) as provider,
            max(service_name) as service_name,
            max(service_category) as service_category,
            max(team) as team,
            max(business_unit) as business_unit,
            max(owner) as owner,
            min(anomaly_start_date) as start_date,
            max(anomaly_end_date) as end_date,
            count(*) as flagged_days,
            max(currency) as currency,
            sum(actual_cost) as actual_cost,
            sum(expected_cost) as expected_cost,
            sum(dollar_impact) as impact,
            max(abs(deviation_pct)) as peak_deviation_pct,
            max(case when is_ongoing then 1 else 0 end) = 1 as is_ongoing,
            min(case when is_suppressed then 1 else 0 end) = 1 as is_suppressed,
            max(suppression_reason) as suppression_reason
        from marts.cost_anomalies
        where {where}
        group by anomaly_id
        order by start_date desc, anomaly_id
    """
    return _frame(warehouse, sql, params)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def anomaly_days(
    warehouse: str,
    start: date,
    end: date,
    providers: tuple[str, ...],
    business_units: tuple[str, ...] = (),
    teams: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Actual against the expected band, per day, around each episode `anomaly_episodes` returns.

    Every day of the episode's series from four weeks before it to a week after, as floats for charts;
    `is_flagged` marks the episode's own days.
    """
    where, params = _anomaly_filter(start, end, providers, business_units, teams)
    sql = f"""
        with episodes as (
            select
                anomaly_id,
                anomaly_series_key,
                min(anomaly_start_date) as start_date,
                max(anomaly_end_date) as end_date
            from marts.cost_anomalies
            where {where}
            group by anomaly_id, anomaly_series_key
        )
        select
            episodes.anomaly_id,
            days.charge_date,
            days.currency,
            cast(days.actual_cost as double) as actual_cost,
            cast(days.expected_cost as double) as expected_cost,
            cast(days.lower_bound as double) as lower_bound,
            cast(days.upper_bound as double) as upper_bound,
            coalesce(days.anomaly_id = episodes.anomaly_id, false) as is_flagged
        from episodes
        inner join marts.cost_anomalies as days
            on
                days.anomaly_series_key = episodes.anomaly_series_key
                and days.charge_date between episodes.start_date - {ANOMALY_CONTEXT_BEFORE_DAYS}
                and episodes.end_date + {ANOMALY_CONTEXT_AFTER_DAYS}
        order by episodes.anomaly_id, days.charge_date
    """
    return _frame(warehouse, sql, params)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def commitments(warehouse: str, start: date, end: date, providers: tuple[str, ...]) -> pd.DataFrame:
    """Utilisation and coverage per commitment and month, for the months the range touches, exact."""
    where, params = _where(
        ("charge_month between $first_month and $last_month", {"first_month": start.replace(day=1), "last_month": end}),
        _in("x_SourceProvider", "provider", providers),
    )
    sql = f"""
        select
            charge_month,
            x_SourceProvider as provider,
            BillingAccountId as billing_account_id,
            BillingCurrency as currency,
            CommitmentDiscountId as commitment_id,
            CommitmentDiscountName as commitment_name,
            CommitmentDiscountType as commitment_type,
            used_commitment_cost,
            unused_commitment_cost,
            commitment_cost,
            utilization,
            covered_contracted_cost,
            eligible_contracted_cost,
            coverage,
            net_savings,
            effective_savings_rate,
            is_commitment_cost_linked
        from marts.commitment_utilization
        where {where}
        order by charge_month, provider, commitment_type, commitment_name
    """
    return _frame(warehouse, sql, params)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def recommendations(warehouse: str) -> pd.DataFrame:
    """Savings opportunities, largest monthly saving first, exact (Decimal).

    All of them: they are as of the last day of data (no date range applies) and few (one per resource or
    commitment found), so the page filters them by provider and owner itself.
    """
    sql = """
        select
            recommendation_id,
            recommendation_type,
            rule,
            x_SourceProvider as provider,
            resource_id,
            owner_team,
            business_unit,
            action,
            estimated_monthly_saving,
            reporting_currency as currency,
            confidence,
            first_seen_date,
            as_of_date,
            current_coverage,
            current_utilization,
            evidence
        from marts.recommendations
        order by estimated_monthly_saving desc, recommendation_id
    """
    return _frame(warehouse, sql)


_SOURCE_LOAD_COLUMNS = [
    "source",
    "last_loaded_at",
    "last_checked_at",
    "files_loaded",
    "files_failed",
    "rows_loaded",
    "rows_rejected",
    "last_failed_file",
    "last_error",
]


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def source_loads(warehouse: str) -> pd.DataFrame:
    """Per source in `meta.load_log`: latest successful load, files and rows, failures and the last error.

    No rows when nothing was ever loaded through `finops load` (the loaders create the log).
    """
    if "meta.load_log" not in table_names(warehouse):
        return pd.DataFrame(columns=_SOURCE_LOAD_COLUMNS)
    sql = """
        with latest_failures as (
            select source, file, error
            from meta.load_log
            where status = 'failed'
            qualify row_number() over (partition by source order by finished_at desc) = 1
        ),
        per_source as (
            select
                source,
                max(case when status in ('loaded', 'partial') then finished_at end) as last_loaded_at,
                max(finished_at) as last_checked_at,
                sum(case when status in ('loaded', 'partial') then 1 else 0 end) as files_loaded,
                sum(case when status = 'failed' then 1 else 0 end) as files_failed,
                sum(rows_loaded) as rows_loaded,
                sum(rows_rejected) as rows_rejected
            from meta.load_log
            group by source
        )
        select
            per_source.source,
            per_source.last_loaded_at,
            per_source.last_checked_at,
            per_source.files_loaded,
            per_source.files_failed,
            per_source.rows_loaded,
            per_source.rows_rejected,
            latest_failures.file as last_failed_file,
            latest_failures.error as last_error
        from per_source
        left join latest_failures on per_source.source = latest_failures.source
        order by per_source.source
    """
    return _frame(warehouse, sql)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def rejected_rows(warehouse: str) -> pd.DataFrame:
    """The latest rows the loaders rejected, newest first; none when no load ever rejected a row.

    The loaders create `meta.rejected_rows` with the first reject, so a clean warehouse has no such table.
    """
    if "meta.rejected_rows" not in table_names(warehouse):
        return pd.DataFrame(columns=["rejected_at", "source", "file", "line_number", "reason", "raw_text"])
    sql = f"""
        select rejected_at, source, file, line_number, reason, raw_text
        from meta.rejected_rows
        order by rejected_at desc, source, file, line_number
        limit {REJECTED_ROWS_SHOWN}
    """
    return _frame(warehouse, sql)


_PIPELINE_RUN_COLUMNS = [
    "run_id",
    "loader_source",
    "status",
    "landed_at",
    "started_at",
    "finished_at",
    "file_count",
    "rows_loaded",
    "rows_rejected",
    "models_rebuilt",
    "detect_seconds",
    "load_seconds",
    "build_seconds",
    "alerts_seconds",
    "latency_seconds",
    "error",
]


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def pipeline_runs(warehouse: str) -> pd.DataFrame:
    """The latest `finops watch` cycles (marts.pipeline_runs), newest first; none when the watcher never ran."""
    if "marts.pipeline_runs" not in table_names(warehouse):
        return pd.DataFrame(columns=_PIPELINE_RUN_COLUMNS)
    sql = f"""
        select {", ".join(_PIPELINE_RUN_COLUMNS)}
        from marts.pipeline_runs
        order by started_at desc, run_id desc
        limit {PIPELINE_RUNS_SHOWN}
    """
    return _frame(warehouse, sql)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def tag_coverage(warehouse: str, start: date, end: date, providers: tuple[str, ...]) -> pd.DataFrame:
    """Effective cost per provider, currency and day by how it found its owner, exact."""
    where, params = _where(
        ("charge_date between $start and $end", {"start": start, "end": end}),
        _in("x_SourceProvider", "provider", providers),
    )
    sql = f"""
        select
            x_SourceProvider as provider,
            BillingCurrency as currency,
            charge_date,
            sum(effective_cost) as effective_cost,
            sum(direct_tag_effective_cost) as direct_tag_cost,
            sum(virtual_tag_effective_cost) as virtual_tag_cost,
            sum(sub_account_owner_effective_cost) as sub_account_owner_cost,
            sum(shared_effective_cost) as shared_cost,
            sum(unallocated_effective_cost) as unallocated_cost,
            sum(unknown_team_tag_effective_cost) as unknown_team_tag_cost
        from marts.tag_coverage
        where {where}
        group by x_SourceProvider, BillingCurrency, charge_date
        order by provider, currency, charge_date
    """
    return _frame(warehouse, sql, params)


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def invoice_reconciliation(warehouse: str) -> pd.DataFrame | None:
    """Per provider billing partition and currency: the invoice total from the raw rows and FOCUS BilledCost.

    marts.invoice_reconciliation computes both (AWS unblended cost, Azure actual cost, GCP cost plus
    credits); a partition on one side only has a null total on the other. None when the mart is missing.
    """
    if "marts.invoice_reconciliation" not in table_names(warehouse):
        return None
    sql = """
        select provider, billing_partition, currency, invoice_total, billed_total
        from marts.invoice_reconciliation
        order by provider, billing_partition, currency
    """
    return _frame(warehouse, sql)


def budget_scope(budgets: pd.DataFrame, business_units: tuple[str, ...], teams: tuple[str, ...]) -> pd.DataFrame:
    """The `budget_vs_actual` rows the filters pick: the teams picked, else the business units picked, else
    every business unit (together, the organisation's budget). Budgets are not per provider."""
    if teams:
        return budgets[(budgets["scope_type"] == "team") & budgets["scope_key"].isin(teams)]
    by_unit = budgets[budgets["scope_type"] == "business_unit"]
    return by_unit[by_unit["scope_key"].isin(business_units)] if business_units else by_unit
