"""Cost overview: billed and effective cost from the FOCUS mart, per currency, provider and service."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import streamlit as st

from dashboards import charts, data


def _sidebar_filters(warehouse: str, bounds: tuple[date, date]) -> tuple[date, date, tuple[str, ...]]:
    """The charge-day range (inclusive) and providers picked in the sidebar; stops the page while the
    range is half picked."""
    with st.sidebar:
        picked = st.date_input(
            "Charge period", value=bounds, min_value=bounds[0], max_value=bounds[1], format="YYYY-MM-DD"
        )
        all_providers = data.provider_names(warehouse)
        providers = st.multiselect("Providers", options=all_providers, default=all_providers)
    # The range widget returns a single date until the user has clicked the end of the range.
    if len(picked) != 2:
        st.info("Pick the last day of the range in the sidebar.")
        st.stop()
    start, end = picked
    return start, end, tuple(providers)


def _headline_metrics(totals: dict[str, tuple[Decimal, Decimal]]) -> None:
    """One row of metrics per billing currency: USD and EUR totals are never added together."""
    for currency, (billed, effective) in totals.items():
        billed_col, effective_col = st.columns(2)
        billed_col.metric(f"Billed cost ({currency})", charts.format_money(billed, currency), border=True)
        effective_col.metric(
            f"Effective cost ({currency})",
            charts.format_money(effective, currency),
            help="After commitment discounts are amortised and negotiated discounts applied.",
            border=True,
        )


def _daily_charts(warehouse: str, start: date, end: date, providers: tuple[str, ...]) -> None:
    st.subheader("Daily billed and effective cost")
    daily = data.daily_costs(warehouse, start, end, providers)
    for currency, rows in daily.groupby("BillingCurrency"):
        st.altair_chart(charts.daily_cost_chart(rows, str(currency)), width="stretch")


def _service_category_charts(warehouse: str, start: date, end: date, providers: tuple[str, ...]) -> None:
    st.subheader("Effective cost by service category")
    by_category = data.costs_by_service_category(warehouse, start, end, providers)
    currencies = list(by_category.groupby("BillingCurrency"))
    for column, (currency, rows) in zip(st.columns(len(currencies)), currencies, strict=True):
        column.altair_chart(charts.service_category_chart(rows, str(currency)), width="stretch")


def _monthly_table(warehouse: str, start: date, end: date, providers: tuple[str, ...]) -> None:
    st.subheader("By billing period")
    st.caption("Only the charges inside the selected range count towards each billing period.")
    monthly = data.monthly_costs(warehouse, start, end, providers)
    st.dataframe(
        monthly,
        hide_index=True,
        column_config={
            "ProviderName": st.column_config.TextColumn("Provider"),
            "billing_period": st.column_config.DateColumn("Billing period", format="YYYY-MM"),
            "BillingCurrency": st.column_config.TextColumn("Currency"),
            "billed_cost": st.column_config.NumberColumn("Billed cost", format="%,.2f"),
            "effective_cost": st.column_config.NumberColumn("Effective cost", format="%,.2f"),
        },
    )


def render() -> None:
    st.title("Cost overview")
    try:
        warehouse = data.open_warehouse()
    except data.WarehouseUnavailable as exc:
        st.warning(str(exc), icon=":material/database:")
        return
    bounds = data.charge_date_bounds(warehouse)
    if bounds is None:
        st.info(f"`marts.focus_costs` has no rows yet. {data.BUILD_HINT}")
        return
    start, end, providers = _sidebar_filters(warehouse, bounds)
    totals = data.totals_by_currency(warehouse, start, end, providers)
    if not totals:
        st.info(
            f"No cost rows in this range: nothing charged from {start} to {end} "
            f"for {', '.join(providers) or 'no provider'}. Widen the dates or pick more providers."
        )
        return
    st.caption(f"Charges from {start} to {end}, read from `marts.focus_costs` (FOCUS 1.2).")
    _headline_metrics(totals)
    _daily_charts(warehouse, start, end, providers)
    _service_category_charts(warehouse, start, end, providers)
    _monthly_table(warehouse, start, end, providers)


render()
