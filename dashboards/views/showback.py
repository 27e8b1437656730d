"""Showback: who spent what. Business units, drilled down to their teams, and the service categories the
cost went to; each table downloads as CSV exactly as shown."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import streamlit as st

from dashboards import charts, data, filters
from dashboards.filters import Filters

ALL_UNITS = "All business units"
UNALLOCATED = "(unallocated)"
_CENT = Decimal("0.01")
_MONEY = ("Effective cost", "Billed cost", "Shared cost")
SHARE = "Share of currency total (%)"


def _drill_unit(f: Filters, units: list[str]) -> str:
    """The business unit to show teams of, or ALL_UNITS; one business unit picked in the sidebar opens it."""
    options = [ALL_UNITS, *units]
    default = options.index(f.business_units[0]) if len(f.business_units) == 1 and f.business_units[0] in units else 0
    return st.selectbox("Drill down", options, index=default, key="showback_unit")


def _headline(rows: pd.DataFrame, scope: str) -> None:
    """Effective cost of the drill-down's scope, one metric per billing currency."""
    totals = rows.groupby("currency")["effective_cost"].agg(lambda amounts: sum(amounts, Decimal(0)))
    for column, (currency, total) in zip(st.columns(len(totals)), totals.items(), strict=True):
        column.metric(
            f"Effective cost ({currency})",
            charts.format_money(total, str(currency)),
            help=f"Allocated effective cost of {scope} in the range, exact before the table rounds each row.",
            border=True,
        )


def _table(rows: pd.DataFrame, by: str, label: str) -> pd.DataFrame:
    """Cost per `by` and currency with its share of the currency's total, money rounded to the cent.

    The frame is both what the page shows and what the CSV holds, so the download is exactly the table.
    """
    grouped = rows.groupby([by, "currency"], as_index=False)[["effective_cost", "billed_cost", "shared_effective_cost"]]
    table = grouped.agg(lambda amounts: sum(amounts, Decimal(0)))
    totals = table.groupby("currency")["effective_cost"].transform(lambda amounts: sum(amounts, Decimal(0)))
    table["share"] = [
        round(float(100 * cost / total), 1) if total else None
        for cost, total in zip(table["effective_cost"], totals, strict=True)
    ]
    for column in ("effective_cost", "billed_cost", "shared_effective_cost"):
        table[column] = [amount.quantize(_CENT, rounding=ROUND_HALF_UP) for amount in table[column]]
    table = table.sort_values(["currency", "effective_cost"], ascending=[True, False])
    return table.rename(
        columns={
            by: label,
            "currency": "Currency",
            "effective_cost": "Effective cost",
            "billed_cost": "Billed cost",
            "shared_effective_cost": "Shared cost",
            "share": SHARE,
        }
    )


def _show(table: pd.DataFrame, file_name: str, key: str) -> None:
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            **{money: st.column_config.NumberColumn(money, format="%,.2f") for money in _MONEY},
            SHARE: st.column_config.NumberColumn(format="%.1f"),
        },
        height="content",
    )
    st.download_button(
        "Download CSV",
        table.to_csv(index=False),
        file_name=file_name,
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key=key,
    )


def _category_charts(rows: pd.DataFrame, by: str, label: str) -> None:
    chart_rows = rows.groupby([by, "service_category", "currency"], as_index=False)["effective_cost"].agg(
        lambda amounts: float(sum(amounts, Decimal(0)))
    )
    for currency, in_currency in chart_rows.groupby("currency"):
        st.altair_chart(charts.stacked_bar_chart(in_currency, by, label, str(currency)), width="stretch")


def render() -> None:
    f = filters.current()
    names = data.provider_names(f.warehouse)
    st.title("Showback")
    st.caption(
        f"{f.describe(names)}. Effective cost after allocation: every cost is owned by one team, shared costs "
        "split by their rules (the shared cost column is the part that came from a split). Billing currency."
    )
    rows = data.showback(f.warehouse, f.start, f.end, f.providers, f.business_units, f.teams)
    if rows.empty:
        st.info(f"No allocated cost in this range for {f.describe(names)}. Widen the dates or clear a filter.")
        return
    rows = rows.fillna({"business_unit": UNALLOCATED, "team": UNALLOCATED})
    unit = _drill_unit(f, sorted(rows["business_unit"].unique()))
    if unit == ALL_UNITS:
        by, label, scope, stem = "business_unit", "Business unit", "business units", "showback_business_units"
    else:
        rows = rows[rows["business_unit"] == unit]
        by, label, scope, stem = "team", "Team", f"teams of {unit}", f"showback_{unit}_teams"
    _headline(rows, "all business units" if unit == ALL_UNITS else unit)
    period = f"{f.start}_{f.end}"
    st.subheader(f"Cost by {label.lower()}" + ("" if unit == ALL_UNITS else f" in {unit}"))
    if unit == ALL_UNITS:
        st.caption("Pick a business unit above to see its teams.")
    _show(_table(rows, by, label), f"{stem}_{period}.csv", "download_scope")
    _category_charts(rows, by, label)
    st.subheader("Cost by service category")
    st.caption(f"Across the {scope} above.")
    _show(_table(rows, "service_category", "Service category"), f"{stem}_by_category_{period}.csv", "download_category")


render()
