"""Commitments: how much of the reserved instances, savings plans and committed-use discounts bought is
used (utilisation), and how much of the eligible usage they cover (coverage)."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import streamlit as st

from dashboards import charts, data, filters


def _headline(rows: pd.DataFrame) -> None:
    """Per billing currency: utilisation of the linked commitments, their unused cost and net savings."""
    for currency, in_currency in rows.groupby("currency"):
        linked = in_currency[in_currency["is_commitment_cost_linked"]]
        committed = sum(linked["commitment_cost"], Decimal(0))
        used = sum(linked["used_commitment_cost"], Decimal(0))
        columns = st.columns(3)
        columns[0].metric(
            f"Utilisation ({currency})",
            charts.format_percent(used / committed if committed > 0 else None),
            help="Used commitment cost over commitment cost, for the commitments FOCUS links cost to.",
            border=True,
        )
        columns[1].metric(
            f"Unused commitment ({currency})",
            charts.format_money(sum(in_currency["unused_commitment_cost"], Decimal(0)), str(currency)),
            help="Paid for and not used: the waste to act on.",
            border=True,
        )
        columns[2].metric(
            f"Net savings ({currency})",
            charts.format_money(sum(linked["net_savings"].dropna(), Decimal(0)), str(currency)),
            help="What the covered usage would have cost without the commitments, minus what they cost.",
            border=True,
        )


def _charts(rows: pd.DataFrame, names: dict[str, str]) -> None:
    series = rows.assign(
        month=pd.to_datetime(rows["charge_month"]),
        commitment=[
            f"{names.get(provider, provider)} {kind}: {name}"
            for provider, kind, name in zip(
                rows["provider"], rows["commitment_type"], rows["commitment_name"], strict=True
            )
        ],
        utilization=rows["utilization"].astype(float),
        coverage=rows["coverage"].astype(float),
    )
    st.subheader("Utilisation")
    st.altair_chart(charts.monthly_ratio_chart(series, "utilization", "Utilisation"), width="stretch")
    st.subheader("Coverage")
    st.altair_chart(charts.monthly_ratio_chart(series, "coverage", "Coverage of eligible usage"), width="stretch")
    st.caption(
        "Utilisation: the share of each commitment's cost its covered usage used. Coverage: the share of the eligible "
        "usage's contracted cost that the commitment covered. Commitments FOCUS links no cost to have no utilisation."
    )


def _table(rows: pd.DataFrame, names: dict[str, str]) -> None:
    st.dataframe(
        rows.assign(provider=rows["provider"].map(names).fillna(rows["provider"])).sort_values(
            ["charge_month", "provider", "commitment_type"], ascending=[False, True, True]
        ),
        hide_index=True,
        column_order=[
            "charge_month",
            "provider",
            "commitment_type",
            "commitment_name",
            "currency",
            "commitment_cost",
            "unused_commitment_cost",
            "utilization",
            "coverage",
            "net_savings",
        ],
        column_config={
            "charge_month": st.column_config.DateColumn("Month", format="YYYY-MM"),
            "provider": st.column_config.TextColumn("Provider"),
            "commitment_type": st.column_config.TextColumn("Type"),
            "commitment_name": st.column_config.TextColumn("Commitment"),
            "currency": st.column_config.TextColumn("Currency"),
            "commitment_cost": st.column_config.NumberColumn("Commitment cost", format="%,.2f"),
            "unused_commitment_cost": st.column_config.NumberColumn("Unused", format="%,.2f"),
            "utilization": st.column_config.NumberColumn("Utilisation", format="percent"),
            "coverage": st.column_config.NumberColumn("Coverage", format="percent"),
            "net_savings": st.column_config.NumberColumn("Net savings", format="%+,.2f"),
        },
    )


def render() -> None:
    f = filters.current()
    names = data.provider_names(f.warehouse)
    st.title("Commitments")
    months = (
        f"{f.start:%Y-%m}" if f.start.replace(day=1) == f.end.replace(day=1) else f"{f.start:%Y-%m} to {f.end:%Y-%m}"
    )
    providers = ", ".join(names.get(p, p) for p in f.providers) or "all providers"
    st.caption(
        f"{months}, {providers}. Commitments are reported per month, so the range picks whole months. They are "
        "bought per billing account, so the business unit and team filters do not apply. Billing currency."
    )
    filters.require(f, "marts.commitment_utilization")
    rows = data.commitments(f.warehouse, f.start, f.end, f.providers)
    if rows.empty:
        st.info("No commitments (reserved instances, savings plans, committed-use discounts) in these months.")
        return
    _headline(rows)
    if not rows["is_commitment_cost_linked"].all():
        st.caption(
            "Utilisation and savings leave out commitments FOCUS links no cost to (GCP committed-use discounts: the "
            "credit zeroes the usage row). Their coverage is still shown."
        )
    _charts(rows, names)
    _table(rows, names)


render()
