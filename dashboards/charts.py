"""Altair charts and number formatting for the dashboard pages.

Every money axis names its one currency: amounts in different currencies are never plotted on one axis
(cross-provider charts use the reporting-currency amounts the marts carry).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

import altair as alt
import pandas as pd

_CENT = Decimal("0.01")
# Fixed colours keep a provider recognisable from chart to chart; the theme's default palette gives
# each chart's first provider the same colour.
PROVIDER_COLORS = {"AWS": "#ff9900", "Microsoft": "#0078d4", "Google Cloud": "#34a853"}
_OTHER_COLOR = "#7f7f7f"
_ANOMALY_COLOR = "#d62728"
_DATE_AXIS = alt.Axis(format="%b %d", labelAngle=0)
# Keyed by the words the pages show for `budget_vs_actual.budget_status`.
BUDGET_STATUS_COLORS = {
    "within budget": "#4c78a8",
    "projected over budget": "#f58518",
    "over budget": "#d62728",
    "no budget": "#9d9d9d",
}


def format_money(amount: Decimal | None, currency: str) -> str:
    """`USD 1,234.57`: the exact amount, rounded half-up to the cent only for display; `USD n/a` for none."""
    if amount is None:
        return f"{currency} n/a"
    return f"{currency} {Decimal(amount).quantize(_CENT, rounding=ROUND_HALF_UP):,}"


def format_percent(ratio: Decimal | float | None) -> str:
    """`93.4%` for 0.934; `n/a` when there is no ratio (nothing to divide by)."""
    if ratio is None or pd.isna(ratio):
        return "n/a"
    return f"{Decimal(str(ratio)) * 100:.1f}%"


def fill_missing_days(
    frame: pd.DataFrame, date_column: str, keys: Sequence[str], values: Sequence[str]
) -> pd.DataFrame:
    """Every day from the first to the last for every series, a missing day as zero.

    A line chart would otherwise draw straight across days without charges (month-start fees then look
    like weeks of spend).
    """
    if frame.empty:
        return frame
    days = pd.date_range(frame[date_column].min(), frame[date_column].max(), freq="D").date
    series = frame[list(keys)].drop_duplicates()
    grid = series.merge(pd.DataFrame({date_column: days}), how="cross")
    filled = grid.merge(frame, on=[*keys, date_column], how="left")
    filled[list(values)] = filled[list(values)].fillna(0.0)
    return filled


def _provider_color(names: pd.Series) -> alt.Color:
    domain = sorted(names.unique())
    scale = alt.Scale(domain=domain, range=[PROVIDER_COLORS.get(name, _OTHER_COLOR) for name in domain])
    # Full opacity: a layer's faint forecast band would otherwise fade the legend's swatches.
    return alt.Color("provider_name:N", title="Provider", scale=scale, legend=alt.Legend(symbolOpacity=1))


def daily_trend_chart(actuals: pd.DataFrame, forecast: pd.DataFrame, currency: str) -> alt.LayerChart:
    """Daily cost per provider (solid), its forecast (dashed) and the forecast's 80% interval (shaded).

    `actuals`: charge_date, provider_name, cost. `forecast`: charge_date, provider_name, predicted_cost,
    lower_80, upper_80 (may be empty).
    """
    cost_title = f"Effective cost ({currency})"
    color = _provider_color(pd.concat([actuals["provider_name"], forecast["provider_name"]]))
    x = alt.X("charge_date:T", title="Charge date", axis=_DATE_AXIS)
    actual = (
        alt.Chart(actuals)
        .mark_line(point=actuals["charge_date"].nunique() == 1)
        .encode(
            x=x,
            y=alt.Y("cost:Q", title=cost_title, axis=alt.Axis(format=",.0f")),
            color=color,
            tooltip=[
                alt.Tooltip("charge_date:T", title="Charge date"),
                alt.Tooltip("provider_name:N", title="Provider"),
                alt.Tooltip("cost:Q", title=cost_title, format=",.2f"),
            ],
        )
    )
    band = alt.Chart(forecast).mark_area(opacity=0.2).encode(x=x, y="lower_80:Q", y2="upper_80:Q", color=color)
    predicted = (
        alt.Chart(forecast)
        .mark_line(strokeDash=[5, 4])
        .encode(
            x=x,
            y="predicted_cost:Q",
            color=color,
            tooltip=[
                alt.Tooltip("charge_date:T", title="Forecast date"),
                alt.Tooltip("provider_name:N", title="Provider"),
                alt.Tooltip("predicted_cost:Q", title=f"Forecast ({currency})", format=",.2f"),
                alt.Tooltip("lower_80:Q", title="80% interval from", format=",.2f"),
                alt.Tooltip("upper_80:Q", title="80% interval to", format=",.2f"),
            ],
        )
    )
    return alt.layer(band, predicted, actual).properties(height=340)


def savings_chart(frame: pd.DataFrame, currency: str) -> alt.Chart:
    """Estimated monthly saving per owner team, stacked by recommendation type, largest first."""
    saving_title = f"Saving per month ({currency})"
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("saving:Q", title=saving_title, axis=alt.Axis(format=",.0f", tickCount=5)),
            y=alt.Y("owner_team:N", title="Owner", sort="-x", axis=alt.Axis(labelLimit=220)),
            color=alt.Color("recommendation_type:N", title="Type"),
            tooltip=[
                alt.Tooltip("owner_team:N", title="Owner"),
                alt.Tooltip("recommendation_type:N", title="Type"),
                alt.Tooltip("saving:Q", title=saving_title, format=",.2f"),
            ],
        )
        .properties(title=f"Estimated saving per month in {currency}", height=alt.Step(28))
    )


def stacked_bar_chart(frame: pd.DataFrame, group: str, group_title: str, currency: str) -> alt.Chart:
    """Effective cost per `group` (business unit or team), stacked by service category, largest first."""
    cost_title = f"Effective cost ({currency})"
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("effective_cost:Q", title=cost_title, axis=alt.Axis(format=",.0f", tickCount=5)),
            y=alt.Y(f"{group}:N", title=group_title, sort="-x", axis=alt.Axis(labelLimit=220)),
            color=alt.Color("service_category:N", title="Service category", legend=alt.Legend(labelLimit=260)),
            tooltip=[
                alt.Tooltip(f"{group}:N", title=group_title),
                alt.Tooltip("service_category:N", title="Service category"),
                alt.Tooltip("effective_cost:Q", title=cost_title, format=",.2f"),
            ],
        )
        .properties(title=f"Effective cost in {currency}", height=alt.Step(28))
    )


def series_chart(
    frame: pd.DataFrame, value: str, value_title: str, series: str, series_title: str, number_format: str
) -> alt.Chart:
    """One line per series (product) over `activity_date`: unit cost or volume."""
    return (
        alt.Chart(frame)
        .mark_line(point=frame["activity_date"].nunique() == 1)
        .encode(
            x=alt.X("activity_date:T", title="Day", axis=_DATE_AXIS),
            y=alt.Y(f"{value}:Q", title=value_title, axis=alt.Axis(format=number_format)),
            color=alt.Color(f"{series}:N", title=series_title),
            tooltip=[
                alt.Tooltip("activity_date:T", title="Day"),
                alt.Tooltip(f"{series}:N", title=series_title),
                alt.Tooltip(f"{value}:Q", title=value_title, format=number_format),
            ],
        )
        .properties(height=300)
    )


def forecast_chart(actuals: pd.DataFrame, forecast: pd.DataFrame, currency: str) -> alt.LayerChart:
    """Daily actuals (solid) then the forecast (dashed) with its 95% and 80% intervals, one colour per series.

    `actuals`: charge_date, series, cost. `forecast`: charge_date, series, predicted_cost and the bounds.
    """
    cost_title = f"Effective cost ({currency})"
    x = alt.X("charge_date:T", title="Day", axis=_DATE_AXIS)
    color = alt.Color("series:N", title="Series", legend=alt.Legend(symbolOpacity=1))
    band_95 = alt.Chart(forecast).mark_area(opacity=0.12).encode(x=x, y="lower_95:Q", y2="upper_95:Q", color=color)
    band_80 = alt.Chart(forecast).mark_area(opacity=0.22).encode(x=x, y="lower_80:Q", y2="upper_80:Q", color=color)
    predicted = (
        alt.Chart(forecast)
        .mark_line(strokeDash=[5, 4])
        .encode(
            x=x,
            y="predicted_cost:Q",
            color=color,
            tooltip=[
                alt.Tooltip("charge_date:T", title="Forecast date"),
                alt.Tooltip("series:N", title="Series"),
                alt.Tooltip("predicted_cost:Q", title=f"Forecast ({currency})", format=",.2f"),
                alt.Tooltip("lower_80:Q", title="80% from", format=",.2f"),
                alt.Tooltip("upper_80:Q", title="80% to", format=",.2f"),
                alt.Tooltip("lower_95:Q", title="95% from", format=",.2f"),
                alt.Tooltip("upper_95:Q", title="95% to", format=",.2f"),
            ],
        )
    )
    actual = (
        alt.Chart(actuals)
        .mark_line()
        .encode(
            x=x,
            y=alt.Y("cost:Q", title=cost_title, axis=alt.Axis(format=",.0f")),
            color=color,
            tooltip=[
                alt.Tooltip("charge_date:T", title="Day"),
                alt.Tooltip("series:N", title="Series"),
                alt.Tooltip("cost:Q", title=cost_title, format=",.2f"),
            ],
        )
    )
    return alt.layer(band_95, band_80, predicted, actual).properties(height=340)


def budget_chart(scopes: pd.DataFrame, currency: str) -> alt.LayerChart:
    """Forecast month-end cost per scope (bar, coloured by status) against its budget (black tick)."""
    money = f"({currency})"
    base = alt.Chart(scopes).encode(y=alt.Y("scope_key:N", title="Scope", sort="-x"))
    bars = base.mark_bar().encode(
        x=alt.X(
            "forecast_month_end_cost:Q", title=f"Month-end forecast and budget {money}", axis=alt.Axis(format=",.0f")
        ),
        color=alt.Color(
            "budget_status:N",
            title="Status",
            scale=alt.Scale(domain=list(BUDGET_STATUS_COLORS), range=list(BUDGET_STATUS_COLORS.values())),
        ),
        tooltip=[
            alt.Tooltip("scope_key:N", title="Scope"),
            alt.Tooltip("forecast_month_end_cost:Q", title=f"Month-end forecast {money}", format=",.2f"),
            alt.Tooltip("budget_amount:Q", title=f"Budget {money}", format=",.2f"),
            alt.Tooltip("budget_status:N", title="Status"),
        ],
    )
    ticks = base.mark_tick(color="black", thickness=3, size=18).encode(x="budget_amount:Q")
    return alt.layer(bars, ticks).properties(
        title=f"Month-end forecast against budget in {currency}", height=alt.Step(30)
    )


def anomaly_chart(days: pd.DataFrame, currency: str) -> alt.LayerChart:
    """Actual daily cost against the expected value and band; the anomaly's own days in red."""
    cost_title = f"Daily cost ({currency})"
    x = alt.X("charge_date:T", title="Day", axis=_DATE_AXIS)
    band = (
        alt.Chart(days)
        .mark_area(opacity=0.25, color="#9ecae1")
        .encode(x=x, y=alt.Y("lower_bound:Q", title=cost_title), y2="upper_bound:Q")
    )
    expected = alt.Chart(days).mark_line(color="#6b6b6b", strokeDash=[5, 4]).encode(x=x, y="expected_cost:Q")
    actual = (
        alt.Chart(days)
        .mark_line(color="#1f77b4", point=True)
        .encode(
            x=x,
            y=alt.Y("actual_cost:Q", title=cost_title, axis=alt.Axis(format=",.0f")),
            tooltip=[
                alt.Tooltip("charge_date:T", title="Day"),
                alt.Tooltip("actual_cost:Q", title=f"Actual ({currency})", format=",.2f"),
                alt.Tooltip("expected_cost:Q", title=f"Expected ({currency})", format=",.2f"),
                alt.Tooltip("lower_bound:Q", title="Band from", format=",.2f"),
                alt.Tooltip("upper_bound:Q", title="Band to", format=",.2f"),
            ],
        )
    )
    flagged = (
        alt.Chart(days[days["is_flagged"]])
        .mark_point(color=_ANOMALY_COLOR, filled=True, size=90)
        .encode(x=x, y="actual_cost:Q")
    )
    return alt.layer(band, expected, actual, flagged).properties(height=340)


def monthly_ratio_chart(frame: pd.DataFrame, value: str, value_title: str) -> alt.Chart:
    """A ratio (utilisation, coverage) per commitment: a line over the months, or bars for a single month."""
    axis = alt.Axis(format="%")
    scale = alt.Scale(domain=[0, 1])
    color = alt.Color("commitment:N", title="Commitment", legend=alt.Legend(labelLimit=420))
    tooltip = [
        alt.Tooltip("month:T", title="Month", format="%Y-%m"),
        alt.Tooltip("commitment:N", title="Commitment"),
        alt.Tooltip(f"{value}:Q", title=value_title, format=".1%"),
    ]
    if frame["month"].nunique() == 1:
        month = f"{frame['month'].iloc[0]:%B %Y}"
        return (
            alt.Chart(frame)
            .mark_bar()
            .encode(
                x=alt.X(f"{value}:Q", title=f"{value_title}, {month}", axis=axis, scale=scale),
                y=alt.Y("commitment:N", title=None, sort="-x", axis=alt.Axis(labelLimit=420)),
                color=color.legend(None),
                tooltip=tooltip,
            )
        )
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("month:T", title="Month", axis=alt.Axis(format="%b %Y", labelAngle=0, tickCount="month")),
            y=alt.Y(f"{value}:Q", title=value_title, axis=axis, scale=scale),
            color=color,
            tooltip=tooltip,
        )
        .properties(height=300)
    )


def tag_coverage_chart(daily: pd.DataFrame) -> alt.Chart:
    """Share of each provider's daily effective cost owned through a valid `team` tag."""
    return (
        alt.Chart(daily)
        .mark_line()
        .encode(
            x=alt.X("charge_date:T", title="Charge date", axis=_DATE_AXIS),
            y=alt.Y("tag_coverage:Q", title="Cost with a valid team tag", axis=alt.Axis(format="%")),
            color=_provider_color(daily["provider_name"]),
            tooltip=[
                alt.Tooltip("charge_date:T", title="Charge date"),
                alt.Tooltip("provider_name:N", title="Provider"),
                alt.Tooltip("tag_coverage:Q", title="Tag coverage", format=".1%"),
            ],
        )
        .properties(height=280)
    )


PIPELINE_STEPS = {
    "detect_seconds": "Detect",
    "load_seconds": "Load",
    "build_seconds": "Build",
    "alerts_seconds": "Alerts",
}


def pipeline_latency_chart(runs: pd.DataFrame) -> alt.Chart:
    """Seconds from landing to the end of each watch cycle, stacked by step."""
    steps = runs.melt(
        id_vars=["run_id", "loader_source", "started_at"],
        value_vars=list(PIPELINE_STEPS),
        var_name="step",
        value_name="seconds",
    ).dropna(subset=["seconds"])
    steps = steps.assign(step=steps["step"].map(PIPELINE_STEPS), seconds=steps["seconds"].astype(float))
    return (
        alt.Chart(steps)
        .mark_bar()
        .encode(
            x=alt.X("started_at:T", title="Cycle started (UTC)"),
            y=alt.Y("sum(seconds):Q", title="Seconds from landing"),
            color=alt.Color("step:N", title="Step", sort=list(PIPELINE_STEPS.values())),
            tooltip=[
                alt.Tooltip("run_id:N", title="Cycle"),
                alt.Tooltip("loader_source:N", title="Source"),
                alt.Tooltip("step:N", title="Step"),
                alt.Tooltip("seconds:Q", title="Seconds", format=".1f"),
            ],
        )
        .properties(height=240)
    )
