"""Altair charts and money formatting for the dashboard pages.

Each chart shows one billing currency: amounts in different currencies are never plotted on one axis.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import altair as alt
import pandas as pd

_CENT = Decimal("0.01")
_MEASURE_LABELS = {"billed_cost": "Billed cost", "effective_cost": "Effective cost"}
# Fixed colours keep a provider recognisable from chart to chart; the theme's default palette gives
# each chart's first provider the same colour.
PROVIDER_COLORS = {"AWS": "#ff9900", "Microsoft": "#0078d4", "Google Cloud": "#34a853"}
_OTHER_PROVIDER_COLOR = "#7f7f7f"


def format_money(amount: Decimal, currency: str) -> str:
    """`USD 1,234.57`: the exact sum, rounded half-up to the cent only for display."""
    return f"{currency} {amount.quantize(_CENT, rounding=ROUND_HALF_UP):,}"


def _provider_color(providers: pd.Series) -> alt.Color:
    domain = sorted(providers.unique())
    palette = [PROVIDER_COLORS.get(provider, _OTHER_PROVIDER_COLOR) for provider in domain]
    return alt.Color("ProviderName:N", title="Provider", scale=alt.Scale(domain=domain, range=palette))


def daily_cost_chart(daily: pd.DataFrame, currency: str) -> alt.Chart:
    """Billed (solid) and effective (dashed) cost per day, one colour per provider."""
    long = daily.melt(
        id_vars=["charge_date", "ProviderName"],
        value_vars=list(_MEASURE_LABELS),
        var_name="measure",
        value_name="cost",
    )
    long["measure"] = long["measure"].map(_MEASURE_LABELS)
    cost_title = f"Cost ({currency})"
    return (
        alt.Chart(long)
        # A one-day range has no line to draw, so show its points.
        .mark_line(point=len(daily["charge_date"].unique()) == 1)
        .encode(
            x=alt.X("charge_date:T", title="Charge date", axis=alt.Axis(format="%b %d")),
            y=alt.Y("cost:Q", title=cost_title, axis=alt.Axis(format=",.0f")),
            color=_provider_color(daily["ProviderName"]),
            strokeDash=alt.StrokeDash("measure:N", title="Measure"),
            tooltip=[
                alt.Tooltip("charge_date:T", title="Charge date"),
                alt.Tooltip("ProviderName:N", title="Provider"),
                alt.Tooltip("measure:N", title="Measure"),
                alt.Tooltip("cost:Q", title=cost_title, format=",.2f"),
            ],
        )
        .properties(title=f"Daily cost in {currency}", height=320)
    )


def service_category_chart(by_category: pd.DataFrame, currency: str) -> alt.Chart:
    """Effective cost per FOCUS ServiceCategory, largest first."""
    cost_title = f"Effective cost ({currency})"
    return (
        alt.Chart(by_category)
        .mark_bar()
        .encode(
            x=alt.X("effective_cost:Q", title=cost_title, axis=alt.Axis(format=",.0f", tickCount=5)),
            y=alt.Y("ServiceCategory:N", title="Service category", sort="-x", axis=alt.Axis(labelLimit=220)),
            tooltip=[
                alt.Tooltip("ServiceCategory:N", title="Service category"),
                alt.Tooltip("effective_cost:Q", title=cost_title, format=",.2f"),
            ],
        )
        .properties(title=f"Effective cost by service category in {currency}")
    )
