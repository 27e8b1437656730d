"""Forecast & budgets: where each budget will land at month end, the daily forecast with its intervals, and
how accurate that forecast has been."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import streamlit as st

from dashboards import charts, data, filters
from dashboards.filters import Filters

_MONEY = (
    "budget_amount", "actual_effective_cost_mtd", "linear_month_end_cost", "forecast_month_end_cost",
    "projected_variance",
)  # fmt: skip
STATUS_LABELS = {
    "within_budget": "within budget",
    "projected_over_budget": "projected over budget",
    "over_budget": "over budget",
    "no_budget": "no budget",
}


def _series(f: Filters, names: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The forecast series the filters ask for, narrowest first, with a display name per series key."""
    if f.teams:
        return "team", {team: team for team in f.teams}
    if f.business_units:
        return "business_unit", {unit: unit for unit in f.business_units}
    if f.providers:
        return "provider", {code: names.get(code, code) for code in f.providers}
    return "total", {"all": "Total"}


def _actuals(f: Filters, series_type: str, labels: dict[str, str], reporting_currency: str) -> pd.DataFrame:
    """Daily effective cost of those series in the forecasts' currency: the reporting currency for the total
    and providers, the billing currency for business units and teams, whose forecasts span every provider."""
    providers = f.providers if series_type == "provider" else ()
    daily = data.daily_spend(f.warehouse, f.start, f.end, providers, f.business_units, f.teams)
    if series_type in ("total", "provider"):
        key = daily["provider"] if series_type == "provider" else pd.Series("all", index=daily.index)
        actuals = daily.assign(series_key=key, currency=reporting_currency, cost=daily["reporting_cost"])
    else:
        actuals = daily.assign(series_key=daily[series_type], cost=daily["effective_cost"])
    actuals = actuals.groupby(["charge_date", "series_key", "currency"], as_index=False)["cost"].sum()
    actuals = charts.fill_missing_days(actuals, "charge_date", ["series_key", "currency"], ["cost"])
    return actuals.assign(series=actuals["series_key"].map(labels))


def _outlook(f: Filters) -> None:
    month = f.end.replace(day=1)
    budgets = data.budget_scope(data.budget_vs_actual(f.warehouse), f.business_units, f.teams)
    scopes = budgets[budgets["charge_month"] == month]
    noun, nouns = ("team", "teams") if f.teams else ("business unit", "business units")
    st.subheader(f"{month:%B %Y}: month-end forecast against budget")
    if scopes.empty:
        st.info(f"No budget for the {nouns} picked in {month:%B %Y}: budgets live in `seeds/allocation/budgets.csv`.")
        return
    through = scopes["data_through_date"].max()
    st.caption(
        f"Spent so far plus the forecast of the rest of the month, with data through {through}, per {noun} "
        "and billing currency. The provider filter does not apply: budgets belong to business units and teams."
    )
    for currency, rows in scopes.groupby("currency"):
        budget = sum(rows["budget_amount"], Decimal(0))
        forecast = sum(rows["forecast_month_end_cost"], Decimal(0))
        variance = forecast - budget
        over = int(rows["budget_status"].isin(["over_budget", "projected_over_budget"]).sum())
        left, right = st.columns(2)
        left.metric(
            f"Month-end forecast ({currency})",
            charts.format_money(forecast, currency),
            delta=f"{'-' if variance < 0 else '+'}{charts.format_money(abs(variance), currency)} vs budget "
            f"{charts.format_money(budget, currency)}",
            delta_color="inverse",
            border=True,
        )
        right.metric(
            f"Over budget or projected to be ({currency})",
            f"{over} of {len(rows)} {noun if len(rows) == 1 else nouns}",
            help="A scope is over budget when its spend so far exceeds the budget, projected over when its "
            "month-end forecast does.",
            border=True,
        )
    scopes = scopes.assign(budget_status=scopes["budget_status"].map(STATUS_LABELS).fillna(scopes["budget_status"]))
    chart_rows = scopes.assign(**{column: scopes[column].astype(float) for column in _MONEY})
    for currency, rows in chart_rows.groupby("currency"):
        st.altair_chart(charts.budget_chart(rows, str(currency)), width="stretch")
    _budget_table(scopes)


def _budget_table(scopes: pd.DataFrame) -> None:
    st.dataframe(
        scopes,
        hide_index=True,
        height="content",
        column_order=[
            "scope_key",
            "currency",
            "budget_amount",
            "actual_effective_cost_mtd",
            "linear_month_end_cost",
            "forecast_month_end_cost",
            "projected_variance",
            "projected_budget_ratio",
            "budget_status",
        ],
        column_config={
            "scope_key": st.column_config.TextColumn("Scope"),
            "currency": st.column_config.TextColumn("Currency"),
            "budget_amount": st.column_config.NumberColumn("Budget", format="%,.2f"),
            "actual_effective_cost_mtd": st.column_config.NumberColumn("Spent to date", format="%,.2f"),
            "linear_month_end_cost": st.column_config.NumberColumn(
                "Straight-line month end", format="%,.2f", help="Spent to date scaled to the whole month."
            ),
            "forecast_month_end_cost": st.column_config.NumberColumn("Month-end forecast", format="%,.2f"),
            "projected_variance": st.column_config.NumberColumn("Forecast - budget", format="%+,.2f"),
            "projected_budget_ratio": st.column_config.NumberColumn("Forecast / budget", format="percent"),
            "budget_status": st.column_config.TextColumn("Status"),
        },
    )


def _forecast(f: Filters, names: dict[str, str]) -> None:
    reporting_currency = data.reporting_currency(f.warehouse)
    series_type, labels = _series(f, names)
    scope = {
        "total": "all spend",
        "provider": "each provider picked",
        "business_unit": "each business unit picked, across every provider",
        "team": "each team picked, across every provider",
    }[series_type]
    st.subheader("Daily forecast")
    st.caption(
        f"Effective cost of {scope}: the range's actuals (solid), then the forecast (dashed) with its 80% (darker) "
        "and 95% intervals, to the end of next month. Pick providers, business units or teams for their own series."
    )
    forecasts = data.cost_forecasts(f.warehouse)
    forecast = forecasts[(forecasts["series_type"] == series_type) & forecasts["series_key"].isin(labels)]
    forecast = forecast.rename(columns={"forecast_date": "charge_date"})
    forecast = forecast.assign(series=forecast["series_key"].map(labels))
    actuals = _actuals(f, series_type, labels, reporting_currency)
    currencies = sorted(set(actuals["currency"]) | set(forecast["currency"]))
    if not currencies:
        st.info(f"No forecast for {', '.join(labels.values())}: the series needs four weeks of history.")
        return
    for currency in currencies:
        st.altair_chart(
            charts.forecast_chart(
                actuals[actuals["currency"] == currency], forecast[forecast["currency"] == currency], str(currency)
            ),
            width="stretch",
        )
    accuracy = data.forecast_accuracy(f.warehouse)
    accuracy = accuracy[(accuracy["series_type"] == series_type) & accuracy["series_key"].isin(labels)]
    st.caption(
        "How good the forecast has been: a rolling-origin backtest of the model each series uses. Coverage is the "
        "share of held-out days that fell inside the interval (80% and 95% are the targets)."
    )
    st.dataframe(
        accuracy.assign(series_key=accuracy["series_key"].map(labels)),
        hide_index=True,
        height="content",
        column_order=["series_key", "currency", "model", "mape", "coverage_80", "coverage_95", "mae", "history_days"],
        column_config={
            "series_key": st.column_config.TextColumn("Series"),
            "currency": st.column_config.TextColumn("Currency"),
            "model": st.column_config.TextColumn("Model"),
            "mape": st.column_config.NumberColumn("MAPE", format="percent", help="Mean absolute percentage error."),
            "coverage_80": st.column_config.NumberColumn("80% coverage", format="percent"),
            "coverage_95": st.column_config.NumberColumn("95% coverage", format="percent"),
            "mae": st.column_config.NumberColumn("Mean absolute error", format="%,.2f"),
            "history_days": st.column_config.NumberColumn("Days of history"),
        },
    )


def render() -> None:
    f = filters.current()
    names = data.provider_names(f.warehouse)
    st.title("Forecast & budgets")
    st.caption(f"{f.describe(names)}. The budget month is the month of the range's last day.")
    filters.require(f, "marts.budget_vs_actual", "marts.cost_forecasts", "marts.forecast_accuracy")
    _outlook(f)
    _forecast(f, names)


render()
