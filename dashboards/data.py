"""The only module that touches the warehouse: a cached read-only connection and cached queries.

Every query reads the mart `marts.focus_costs` and takes user input as bound parameters. Money stays
DECIMAL (Python `Decimal`) unless a query says `::double`, which only the chart queries do, after summing.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_WAREHOUSE = REPO_ROOT / "warehouse" / "finops.duckdb"
FOCUS_MART_SCHEMA = "marts"
FOCUS_MART_TABLE = "focus_costs"
# The warehouse is rebuilt in batch (`finops build`), so a few minutes of staleness is fine.
QUERY_TTL = "5m"

BUILD_HINT = "Run `make demo` (demo data) or `finops build` (your own exports) to create it."

# The filters every cost query shares; the values are bound parameters, see _filter_params.
_FILTER_SQL = """
    ChargePeriodStart >= $start
    and ChargePeriodStart < $end_exclusive
    and list_contains($providers, ProviderName)
"""


class WarehouseUnavailable(Exception):
    """The warehouse file or the FOCUS mart is missing; the message tells the user what to run."""


def warehouse_path() -> Path:
    """The warehouse named by FINOPS_WAREHOUSE, else `warehouse/finops.duckdb` in the repository."""
    configured = os.environ.get("FINOPS_WAREHOUSE")
    return Path(configured).expanduser().resolve() if configured else DEFAULT_WAREHOUSE


@st.cache_resource(show_spinner=False)
def _connect(path: str) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(path, read_only=True)


def open_warehouse() -> str:
    """Check that the warehouse and its FOCUS mart exist; return the key the query functions take.

    Raises:
        WarehouseUnavailable: with a message naming the file and the command that builds it.
    """
    path = warehouse_path()
    if not path.is_file():
        raise WarehouseUnavailable(f"No warehouse at `{path}`. {BUILD_HINT}")
    has_mart = _rows(
        str(path),
        "select count(*) from information_schema.tables where table_schema = $schema and table_name = $table",
        {"schema": FOCUS_MART_SCHEMA, "table": FOCUS_MART_TABLE},
    )[0][0]
    if not has_mart:
        raise WarehouseUnavailable(
            f"The warehouse `{path}` has no `{FOCUS_MART_SCHEMA}.{FOCUS_MART_TABLE}` table yet. {BUILD_HINT}"
        )
    return str(path)


def _execute(warehouse: str, sql: str, params: dict[str, Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and rows. Rows come from fetchall() because .df() would turn DECIMAL into float."""
    # A cursor per query: Streamlit serves sessions on several threads and a DuckDB connection is not
    # thread-safe, while its cursors (connections to the same database) are.
    with _connect(warehouse).cursor() as cursor:
        result = cursor.execute(sql, params)
        return [column[0] for column in result.description], result.fetchall()


def _rows(warehouse: str, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    return _execute(warehouse, sql, params or {})[1]


def _frame(warehouse: str, sql: str, params: dict[str, Any]) -> pd.DataFrame:
    columns, rows = _execute(warehouse, sql, params)
    return pd.DataFrame(rows, columns=columns)


def _filter_params(start: date, end: date, providers: tuple[str, ...]) -> dict[str, Any]:
    # The end date is inclusive for the user, so compare against the start of the next day.
    return {"start": start, "end_exclusive": end + timedelta(days=1), "providers": list(providers)}


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def provider_names(warehouse: str) -> list[str]:
    sql = "select distinct ProviderName from marts.focus_costs order by ProviderName"
    return [row[0] for row in _rows(warehouse, sql)]


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def charge_date_bounds(warehouse: str) -> tuple[date, date] | None:
    """First and last charge day in the mart, or None when it is empty."""
    sql = "select min(ChargePeriodStart)::date, max(ChargePeriodStart)::date from marts.focus_costs"
    first, last = _rows(warehouse, sql)[0]
    return (first, last) if first is not None else None


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def totals_by_currency(
    warehouse: str, start: date, end: date, providers: tuple[str, ...]
) -> dict[str, tuple[Decimal, Decimal]]:
    """Billed and effective cost per billing currency: currencies are never added together."""
    sql = f"""
        select BillingCurrency, sum(BilledCost), sum(EffectiveCost)
        from marts.focus_costs
        where {_FILTER_SQL}
        group by BillingCurrency
        order by BillingCurrency
    """
    rows = _rows(warehouse, sql, _filter_params(start, end, providers))
    return {currency: (billed, effective) for currency, billed, effective in rows}


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def daily_costs(warehouse: str, start: date, end: date, providers: tuple[str, ...]) -> pd.DataFrame:
    """Billed and effective cost per day, provider and currency, as floats for plotting.

    Every day between the first and the last charge is present: a day without charges is a zero, not a
    gap a line chart would draw straight across (month-start fees otherwise look like weeks of spend).
    """
    sql = f"""
        with costs as (
            select
                ChargePeriodStart::date as charge_date,
                ProviderName,
                BillingCurrency,
                sum(BilledCost) as billed_cost,
                sum(EffectiveCost) as effective_cost,
            from marts.focus_costs
            where {_FILTER_SQL}
            group by all
        ),
        series as (select distinct ProviderName, BillingCurrency from costs),
        days as (
            select unnest(generate_series(min(charge_date), max(charge_date), interval 1 day))::date as charge_date
            from costs
        )
        select
            days.charge_date,
            series.ProviderName,
            series.BillingCurrency,
            coalesce(costs.billed_cost, 0)::double as billed_cost,
            coalesce(costs.effective_cost, 0)::double as effective_cost,
        from days
        cross join series
        left join costs using (charge_date, ProviderName, BillingCurrency)
        order by all
    """
    return _frame(warehouse, sql, _filter_params(start, end, providers))


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def costs_by_service_category(warehouse: str, start: date, end: date, providers: tuple[str, ...]) -> pd.DataFrame:
    """Effective cost per ServiceCategory and currency, as floats for plotting."""
    sql = f"""
        select
            ServiceCategory,
            BillingCurrency,
            sum(EffectiveCost)::double as effective_cost,
        from marts.focus_costs
        where {_FILTER_SQL}
        group by all
        order by BillingCurrency, effective_cost desc
    """
    return _frame(warehouse, sql, _filter_params(start, end, providers))


@st.cache_data(ttl=QUERY_TTL, show_spinner=False)
def monthly_costs(warehouse: str, start: date, end: date, providers: tuple[str, ...]) -> pd.DataFrame:
    """Billed and effective cost per provider, billing period and currency, exact (Decimal)."""
    sql = f"""
        select
            ProviderName,
            BillingPeriodStart::date as billing_period,
            BillingCurrency,
            sum(BilledCost) as billed_cost,
            sum(EffectiveCost) as effective_cost,
        from marts.focus_costs
        where {_FILTER_SQL}
        group by all
        order by billing_period, ProviderName, BillingCurrency
    """
    return _frame(warehouse, sql, _filter_params(start, end, providers))
