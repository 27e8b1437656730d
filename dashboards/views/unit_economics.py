"""Unit economics: what a transaction, an active user or a thousand API calls cost each product, beside the
volume that drove it, and whether unit cost falls as volume grows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pandas as pd
import streamlit as st

from dashboards import charts, data, filters
from dashboards.filters import Filters

PRODUCTS_PER_ROW = 4


@dataclass(frozen=True)
class Unit:
    """A unit of volume: the mart's volume column, its daily unit-cost column, and how many units a price is per."""

    volume: str
    daily_cost: str
    volume_title: str
    per: int


UNITS = {
    "transaction": Unit("transactions", "cost_per_transaction", "Transactions", 1),
    "daily active user": Unit("active_users", "cost_per_active_user", "Active users", 1),
    "1,000 API calls": Unit("api_calls", "cost_per_1k_api_calls", "API calls", 1000),
}


def _pick(daily: pd.DataFrame, start: date, end: date, f: Filters) -> pd.DataFrame:
    picked = daily[(daily["activity_date"] >= start) & (daily["activity_date"] <= end)]
    if f.business_units:
        picked = picked[picked["business_unit"].isin(f.business_units)]
    if f.teams:
        picked = picked[picked["owner_team"].isin(f.teams)]
    return picked


def _unit_costs(days: pd.DataFrame, unit: Unit) -> dict[str, tuple[Decimal, int, Decimal | None]]:
    """Per product: cost, volume and cost per unit over the days (a ratio of sums, exact)."""
    result = {}
    for product, rows in days.groupby("product"):
        cost, volume = sum(rows["allocated_cost"], Decimal(0)), int(rows[unit.volume].sum())
        result[str(product)] = (cost, volume, cost * unit.per / volume if volume else None)
    return result


def _headline(days: pd.DataFrame, previous: pd.DataFrame, unit_name: str, unit: Unit, compared_with: str) -> None:
    now, before = _unit_costs(days, unit), _unit_costs(previous, unit)
    products = days.drop_duplicates("product").sort_values("product_name")
    for start in range(0, len(products), PRODUCTS_PER_ROW):
        chunk = products.iloc[start : start + PRODUCTS_PER_ROW]
        for column, product in zip(st.columns(PRODUCTS_PER_ROW), chunk.itertuples(), strict=False):
            unit_cost = now[product.product][2]
            earlier = before.get(product.product, (None, None, None))[2]
            change = None if unit_cost is None or not earlier else float(unit_cost / earlier - 1)
            column.metric(
                f"{product.product_name} ({product.currency})",
                charts.format_money(unit_cost, product.currency),
                delta=None if change is None else f"{change:+.1%} vs {compared_with}",
                delta_color="inverse",
                help="Allocated cost divided by volume over the whole range (a ratio of sums).",
                border=True,
            )


def _charts(days: pd.DataFrame, unit_name: str, unit: Unit, currency: str) -> None:
    series = days.assign(unit_cost=days[unit.daily_cost].astype(float), volume=days[unit.volume].astype(float))
    cost_column, volume_column = st.columns(2)
    cost_column.altair_chart(
        charts.series_chart(
            series, "unit_cost", f"Cost per {unit_name} ({currency})", "product_name", "Product", ",.2f"
        ).properties(title=f"Cost per {unit_name}, daily"),
        width="stretch",
    )
    volume_column.altair_chart(
        charts.series_chart(
            series, "volume", f"{unit.volume_title} per day", "product_name", "Product", ",.0f"
        ).properties(title=f"{unit.volume_title}, daily"),
        width="stretch",
    )


def _totals(days: pd.DataFrame, unit_name: str, unit: Unit) -> None:
    costs = _unit_costs(days, unit)
    products = days.drop_duplicates("product").sort_values("product_name")
    table = pd.DataFrame(
        {
            "Product": products["product_name"],
            "Owner team": products["owner_team"],
            "Business unit": products["business_unit"],
            "Currency": products["currency"],
            "Allocated cost": [costs[p][0] for p in products["product"]],
            unit.volume_title: [costs[p][1] for p in products["product"]],
            f"Cost per {unit_name}": [costs[p][2] for p in products["product"]],
            "Revenue": [
                sum(days.loc[days["product"] == p, "revenue"].dropna(), Decimal(0)) for p in products["product"]
            ],
        }
    )
    st.dataframe(
        table,
        hide_index=True,
        height="content",
        column_config={
            "Allocated cost": st.column_config.NumberColumn(format="%,.2f"),
            unit.volume_title: st.column_config.NumberColumn(format="%,d"),
            f"Cost per {unit_name}": st.column_config.NumberColumn(format="%,.4f"),
            "Revenue": st.column_config.NumberColumn(format="%,.2f"),
        },
    )


def _trends(f: Filters) -> None:
    st.subheader("Does unit cost fall as volume grows?")
    trends = data.unit_cost_trends(f.warehouse)
    if f.business_units:
        trends = trends[trends["business_unit"].isin(f.business_units)]
    if f.teams:
        trends = trends[trends["owner_team"].isin(f.teams)]
    if trends.empty:
        st.info("No unit-cost trend for these business units and teams: it needs several weeks of volume.")
        return
    first, last = trends["first_week_start"].min(), trends["last_week_start"].max()
    st.caption(
        f"Weekly cost against weekly volume from the week of {first} to the week of {last} (the mart's own window, "
        "independent of the date range). Elasticity 1 means cost grows in step with volume; below 1, unit cost "
        "falls as volume grows."
    )
    st.dataframe(
        trends,
        hide_index=True,
        height="content",
        column_order=[
            "product_name",
            "volume_metric",
            "currency",
            "weeks",
            "first_week_unit_cost",
            "last_week_unit_cost",
            "elasticity",
            "r_squared",
            "trend",
        ],
        column_config={
            "product_name": st.column_config.TextColumn("Product"),
            "volume_metric": st.column_config.TextColumn("Volume"),
            "currency": st.column_config.TextColumn("Currency"),
            "weeks": st.column_config.NumberColumn("Weeks"),
            "first_week_unit_cost": st.column_config.NumberColumn("First week unit cost", format="%,.4f"),
            "last_week_unit_cost": st.column_config.NumberColumn("Last week unit cost", format="%,.4f"),
            "elasticity": st.column_config.NumberColumn("Elasticity", format="%.2f"),
            "r_squared": st.column_config.NumberColumn("R²", format="%.2f"),
            "trend": st.column_config.TextColumn("Trend"),
        },
    )


def render() -> None:
    f = filters.current()
    st.title("Unit economics")
    st.caption(
        f"{f.start} to {f.end}. Products' allocated cost in the reporting currency against their business volume. "
        "The provider filter does not apply: a product's cost comes from its teams across every provider."
    )
    filters.require(f, "marts.unit_costs_daily", "marts.unit_cost_trends")
    daily = data.unit_costs_daily(f.warehouse)
    days = _pick(daily, f.start, f.end, f)
    if days.empty:
        st.info(
            "No unit costs for these dates, business units and teams: products are defined in "
            "`seeds/unit_economics/products.csv` and need business events (`finops load events`)."
        )
        _trends(f)
        return
    unit_name = st.radio("Cost per", list(UNITS), horizontal=True, key="unit")
    unit = UNITS[unit_name]
    volumes = days.groupby("product_name")[unit.volume].sum()
    if (volumes == 0).any():
        st.caption(f"No {unit.volume_title.lower()} recorded for {', '.join(volumes[volumes == 0].index)}.")
    days = days[days["product_name"].isin(volumes[volumes > 0].index)]
    if days.empty:
        st.info(f"No product recorded {unit.volume_title.lower()} in this range; pick another unit.")
        _trends(f)
        return
    previous_start, previous_end = data.previous_period(f.start, f.end)
    previous = _pick(daily, previous_start, previous_end, f)
    _headline(days, previous, unit_name, unit, f"{previous_start:%b %d} to {previous_end:%b %d}")
    # Unit costs are all in the reporting currency, so one axis serves every product.
    _charts(days, unit_name, unit, str(days["currency"].iloc[0]))
    _totals(days, unit_name, unit)
    _trends(f)


render()
