"""Overview: month-to-date spend, month-end forecast against budget, the daily trend by provider with its
forecast band, and the services and teams whose cost moved most against the previous period."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal

import pandas as pd
import streamlit as st

from dashboards import charts, data, filters
from dashboards.filters import Filters


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _month_budget(f: Filters) -> dict[str, dict[str, Decimal]]:
    """Budget and month-end forecast per currency for the month of the range's end, at the filters' scope."""
    month = f.end.replace(day=1)
    budgets = data.budget_scope(data.budget_vs_actual(f.warehouse), f.business_units, f.teams)
    budgets = budgets[budgets["charge_month"] == month]
    return {
        str(currency): {
            "budget": sum(rows["budget_amount"], Decimal(0)),
            "forecast": sum(rows["forecast_month_end_cost"], Decimal(0)),
        }
        for currency, rows in budgets.groupby("currency")
    }


def _budget_delta(forecast: Decimal, budget: Decimal, currency: str) -> str:
    """`-USD 5,645.37 vs budget USD 410,000.00`: the sign leads, so Streamlit colours it (green under budget)."""
    variance = forecast - budget
    sign = "-" if variance < 0 else "+"
    return f"{sign}{charts.format_money(abs(variance), currency)} vs budget {charts.format_money(budget, currency)}"


def _headline(f: Filters) -> None:
    """Month-to-date spend and the month-end forecast against budget, one row per billing currency."""
    month_start = f.end.replace(day=1)
    to_date = data.spend_by_currency(f.warehouse, month_start, f.end, f.providers, f.business_units, f.teams)
    budgets = _month_budget(f)
    for currency in sorted(set(to_date) | set(budgets)):
        spent, outlook = st.columns(2)
        spent.metric(
            f"Month to date ({currency})",
            charts.format_money(to_date.get(currency, (Decimal(0), Decimal(0)))[1], currency),
            help=f"Effective cost from {month_start} to {f.end}, the month of the range's last day.",
            border=True,
        )
        budget = budgets.get(currency)
        outlook.metric(
            f"Month-end forecast ({currency})",
            charts.format_money(budget["forecast"] if budget else None, currency),
            delta=_budget_delta(budget["forecast"], budget["budget"], currency) if budget else "no budget",
            delta_color="inverse" if budget else "off",
            help=(
                f"Spent so far in {month_start:%B %Y} plus the forecast of the rest of the month, for the "
                + ("teams picked." if f.teams else "business units picked." if f.business_units else "organisation.")
            ),
            border=True,
        )
    if f.providers:
        st.caption(
            "Budgets and the month-end forecast belong to business units and teams, so they cover every provider."
        )


def _trend(f: Filters, names: dict[str, str], in_range: dict[str, tuple[Decimal, Decimal]]) -> None:
    currency = data.reporting_currency(f.warehouse)
    st.subheader("Daily cost by provider")
    totals = " · ".join(charts.format_money(effective, code) for code, (_, effective) in in_range.items())
    st.caption(f"Effective cost in the range: {totals}.")
    daily = data.daily_spend(f.warehouse, f.start, f.end, f.providers, f.business_units, f.teams)
    actuals = daily.groupby(["charge_date", "provider"], as_index=False)["reporting_cost"].sum()
    actuals = charts.fill_missing_days(actuals, "charge_date", ["provider"], ["reporting_cost"])
    actuals = actuals.rename(columns={"reporting_cost": "cost"})
    forecast = pd.DataFrame(columns=["charge_date", "provider", "predicted_cost", "lower_80", "upper_80"])
    notes = [f"Effective cost converted to {currency}, the reporting currency, so providers share one axis."]
    if f.business_units or f.teams:
        notes.append(
            "The forecast is per provider for the whole organisation, so it is hidden while a "
            "business unit or team is picked."
        )
    elif f.end < f.data_through:
        notes.append(
            f"The forecast starts after the last day of data ({f.data_through}); end the range there to see it."
        )
    else:
        # The rest of the month the forecast starts in: of this month, or all of next when the data ends a month.
        horizon = _month_end(f.data_through + timedelta(days=1))
        forecasts = data.cost_forecasts(f.warehouse)
        forecast = forecasts[
            (forecasts["series_type"] == "provider")
            & forecasts["series_key"].isin(f.providers or list(names))
            & (forecasts["forecast_date"] <= horizon)
        ].rename(columns={"forecast_date": "charge_date", "series_key": "provider"})
        notes.append(f"Dashed: the forecast to {horizon}; shaded: its 80% interval.")
    actuals["provider_name"] = actuals["provider"].map(names)
    forecast = forecast.assign(provider_name=forecast["provider"].map(names))
    st.altair_chart(charts.daily_trend_chart(actuals, forecast, currency), width="stretch")
    st.caption(" ".join(notes))


def _movers(f: Filters) -> None:
    previous_start, previous_end = data.previous_period(f.start, f.end)
    st.subheader("Top movers")
    caption = (
        f"Services and teams whose effective cost changed most: {f.start} to {f.end} against {previous_start} to "
        f"{previous_end}, ranked by the change in the reporting currency."
    )
    if previous_start < f.data_from:
        caption += f" The previous period starts before the first day of data ({f.data_from}), so its cost is partial."
    st.caption(caption)
    movers = data.top_movers(f.warehouse, f.start, f.end, f.providers, f.business_units, f.teams)
    if movers.empty:
        st.info("No cost changed between the two periods for these filters.")
        return
    movers["team"] = movers["team"].fillna("(unallocated)")
    movers["change_pct"] = [
        float(change / previous) if previous else None
        for change, previous in zip(movers["change"], movers["previous_cost"], strict=True)
    ]
    st.dataframe(
        movers,
        hide_index=True,
        height="content",
        column_config={
            "service_name": st.column_config.TextColumn("Service"),
            "team": st.column_config.TextColumn("Team"),
            "currency": st.column_config.TextColumn("Currency"),
            "previous_cost": st.column_config.NumberColumn("Previous period", format="%,.2f"),
            "current_cost": st.column_config.NumberColumn("This period", format="%,.2f"),
            "change": st.column_config.NumberColumn("Change", format="%+,.2f"),
            "change_pct": st.column_config.NumberColumn("Change %", format="percent"),
        },
    )


def render() -> None:
    f = filters.current()
    names = data.provider_names(f.warehouse)
    st.title("Overview")
    st.caption(f"{f.describe(names)}. Money is shown in its billing currency and never added across currencies.")
    in_range = data.spend_by_currency(f.warehouse, f.start, f.end, f.providers, f.business_units, f.teams)
    if not in_range:
        st.info(
            f"No cost in this range: nothing was charged for {f.describe(names)}. Widen the dates or clear a filter."
        )
        return
    _headline(f)
    _trend(f, names, in_range)
    _movers(f)


render()
