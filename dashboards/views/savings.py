"""Savings opportunities: what to delete, downsize or commit to, who owns it and what it saves per month,
largest first, with the rule and the numbers behind each one (marts.recommendations)."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import streamlit as st

from dashboards import charts, data, filters

CONFIDENCE_ORDER = ("high", "medium", "low")


def _headline(rows: pd.DataFrame, currency: str) -> None:
    columns = st.columns(3)
    columns[0].metric(
        f"Saving per month ({currency})",
        charts.format_money(sum(rows["estimated_monthly_saving"], Decimal(0)), currency),
        help="Sum of the estimated monthly savings of the opportunities shown.",
        border=True,
    )
    columns[1].metric("Opportunities", f"{len(rows):,}", border=True)
    high = rows[rows["confidence"] == "high"]
    columns[2].metric(
        f"High confidence ({currency})",
        charts.format_money(sum(high["estimated_monthly_saving"], Decimal(0)), currency),
        help="The part of the saving whose rule had full data and a low risk.",
        border=True,
    )


def _chart(rows: pd.DataFrame, currency: str) -> None:
    per_owner = (
        rows.assign(saving=rows["estimated_monthly_saving"].astype(float))
        .groupby(["owner_team", "recommendation_type"], as_index=False)["saving"]
        .sum()
    )
    st.altair_chart(charts.savings_chart(per_owner, currency), width="stretch")


def _table(rows: pd.DataFrame, names: dict[str, str]) -> None:
    shown = rows.assign(provider=rows["provider"].map(names).fillna(rows["provider"]))
    columns = [
        "estimated_monthly_saving", "currency", "recommendation_type", "rule", "action", "resource_id", "owner_team",
        "business_unit", "provider", "confidence", "first_seen_date", "current_coverage", "current_utilization",
        "evidence",
    ]  # fmt: skip
    st.dataframe(
        shown,
        hide_index=True,
        column_order=columns,
        column_config={
            "estimated_monthly_saving": st.column_config.NumberColumn("Saving / month", format="%,.2f"),
            "currency": st.column_config.TextColumn("Currency"),
            "recommendation_type": st.column_config.TextColumn("Type"),
            "rule": st.column_config.TextColumn("Rule"),
            "action": st.column_config.TextColumn("Action", width="large"),
            "resource_id": st.column_config.TextColumn("Resource"),
            "owner_team": st.column_config.TextColumn("Owner"),
            "business_unit": st.column_config.TextColumn("Business unit"),
            "provider": st.column_config.TextColumn("Provider"),
            "confidence": st.column_config.TextColumn("Confidence"),
            "first_seen_date": st.column_config.DateColumn("First seen"),
            "current_coverage": st.column_config.NumberColumn("Coverage now", format="percent"),
            "current_utilization": st.column_config.NumberColumn("Utilisation now", format="percent"),
            "evidence": st.column_config.JsonColumn("Evidence"),
        },
    )
    st.download_button(
        "Download CSV",
        shown[columns].to_csv(index=False),
        file_name="savings_opportunities.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key="savings_csv",
    )


def _filtered(rows: pd.DataFrame, f: filters.Filters) -> pd.DataFrame:
    """The sidebar's providers, business units and teams; a team or business unit is the owner's."""
    keep = pd.Series(True, index=rows.index)
    for column, picked in (("provider", f.providers), ("business_unit", f.business_units), ("owner_team", f.teams)):
        if picked:
            keep &= rows[column].isin(picked)
    return rows[keep]


def render() -> None:
    f = filters.current()
    names = data.provider_names(f.warehouse)
    st.title("Savings opportunities")
    filters.require(f, "marts.recommendations")
    rows = _filtered(data.recommendations(f.warehouse), f)
    scope = ", ".join(names.get(p, p) for p in f.providers) or "all providers"
    if f.business_units:
        scope += " · business unit " + ", ".join(f.business_units)
    if f.teams:
        scope += " · owner " + ", ".join(f.teams)
    if rows.empty:
        st.caption(scope)
        st.info("No savings opportunities for these filters.")
        return
    st.caption(
        f"As of {rows['as_of_date'].max()}, the last day of data: the date range does not apply. {scope}. "
        "Each row names the rule that found it and the numbers it used; savings are in the reporting currency."
    )
    currency = str(rows["currency"].iloc[0])
    _headline(rows, currency)
    _chart(rows, currency)
    _table(rows, names)


render()
