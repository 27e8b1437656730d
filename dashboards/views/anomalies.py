"""Anomalies: the cost spikes, drops and leaks the detector flagged, and for the one selected, its actual
cost against the expected band.

Alert links open this page as `anomalies?anomaly=<anomaly_id>&provider=...&team=...&start=...&end=...`:
the sidebar takes the filters, this page preselects the anomaly and keeps `anomaly` in the URL.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import streamlit as st

from dashboards import charts, data, filters

ANOMALY = "anomaly"


def _severity_filter(episodes: pd.DataFrame) -> pd.DataFrame:
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    severities = left.multiselect("Severity", data.SEVERITIES, default=list(data.SEVERITIES), key="severity")
    show_suppressed = right.toggle(
        "Show suppressed", key="show_suppressed", help="Days matching a known cost event (a load test, a sale)."
    )
    shown = episodes[episodes["severity"].isin(severities)]
    return shown if show_suppressed else shown[~shown["is_suppressed"]]


def _headline(episodes: pd.DataFrame) -> None:
    columns = st.columns(4)
    columns[0].metric("Anomalies", len(episodes), border=True)
    columns[1].metric("Critical", int((episodes["severity"] == "CRITICAL").sum()), border=True)
    columns[2].metric(
        "Ongoing", int(episodes["is_ongoing"].sum()), help="Still anomalous on the last day of data.", border=True
    )
    for currency, rows in episodes.groupby("currency"):
        columns[3].metric(
            f"Net impact ({currency})",
            charts.format_money(sum(rows["impact"], Decimal(0)), str(currency)),
            help="Actual minus expected cost over the flagged days: spikes add, drops subtract.",
            border=True,
        )


def _table(episodes: pd.DataFrame, names: dict[str, str], currency: str) -> None:
    st.dataframe(
        episodes.assign(provider=episodes["provider"].map(names).fillna(episodes["provider"])),
        hide_index=True,
        height="content",
        column_order=[
            "severity",
            "direction",
            "provider",
            "service_name",
            "team",
            "start_date",
            "end_date",
            "actual_cost",
            "impact",
            "peak_deviation_pct",
            "is_ongoing",
            *(["suppression_reason"] if episodes["is_suppressed"].any() else []),
        ],
        column_config={
            "severity": st.column_config.TextColumn("Severity"),
            "direction": st.column_config.TextColumn("Direction"),
            "provider": st.column_config.TextColumn("Provider"),
            "service_name": st.column_config.TextColumn("Service", width="medium"),
            "team": st.column_config.TextColumn("Team"),
            "start_date": st.column_config.DateColumn("First day"),
            "end_date": st.column_config.DateColumn("Last day"),
            "actual_cost": st.column_config.NumberColumn(f"Actual ({currency})", format="%,.2f"),
            "impact": st.column_config.NumberColumn(f"Impact ({currency})", format="%+,.2f"),
            "peak_deviation_pct": st.column_config.NumberColumn("Peak deviation", format="%.0f%%"),
            "is_ongoing": st.column_config.CheckboxColumn("Ongoing"),
            "suppression_reason": st.column_config.TextColumn("Suppressed because"),
        },
    )


def _label(episode: pd.Series, names: dict[str, str]) -> str:
    days = (
        str(episode.start_date)
        if episode.start_date == episode.end_date
        else f"{episode.start_date} to {episode.end_date}"
    )
    return (
        f"{episode.severity} {episode.direction}: {names.get(episode.provider, episode.provider)} "
        f"{episode.service_name}, {episode.team or episode.owner}, {days}"
    )


def _selected(episodes: pd.DataFrame, names: dict[str, str]) -> pd.Series:
    """The anomaly picked, preselected from the URL's `anomaly` (an alert link); the URL follows the pick."""
    ids = list(episodes["anomaly_id"])
    by_id = episodes.set_index("anomaly_id")
    linked = st.query_params.get(ANOMALY)
    if linked and linked not in ids:
        st.warning(
            f"The linked anomaly `{linked}` is not among those shown: widen the dates, providers, teams or "
            "severities, or show suppressed anomalies."
        )
    picked = st.selectbox(
        "Anomaly",
        ids,
        index=ids.index(linked) if linked in ids else 0,
        format_func=lambda anomaly_id: _label(by_id.loc[anomaly_id], names),
        key=f"{ANOMALY}_pick",
    )
    if st.query_params.get(ANOMALY) != picked:
        st.query_params[ANOMALY] = picked
    return by_id.loc[picked]


def _detail(episode: pd.Series, days: pd.DataFrame, names: dict[str, str]) -> None:
    currency = str(episode.currency)
    provider = names.get(episode.provider, episode.provider)
    amount = charts.format_money(abs(episode.impact), currency)
    expected = charts.format_money(episode.expected_cost, currency)
    st.markdown(
        f"**{episode.severity} {episode.direction}** on {provider} {episode.service_name} "
        f"(owner {episode.owner or 'unknown'}), {episode.start_date} to {episode.end_date}: {amount} "
        f"{'above' if episode.impact >= 0 else 'below'} the expected {expected}"
        + (" and still going on." if episode.is_ongoing else ".")
        + (f" Suppressed: {episode.suppression_reason}." if episode.is_suppressed else "")
    )
    series = days[days["anomaly_id"] == episode.name]
    st.altair_chart(charts.anomaly_chart(series, currency), width="stretch")
    st.caption(
        "Blue: actual daily cost. Dashed grey: expected, from the four weeks before (weekday-aware); shaded: the "
        "band outside which a day counts as anomalous. Red: the anomaly's flagged days."
    )


def render() -> None:
    f = filters.current()
    names = data.provider_names(f.warehouse)
    st.title("Anomalies")
    st.caption(f"{f.describe(names)}. Episodes that overlap the range; amounts in the reporting currency.")
    filters.require(f, "marts.cost_anomalies")
    episodes = _severity_filter(
        data.anomaly_episodes(f.warehouse, f.start, f.end, f.providers, f.business_units, f.teams)
    )
    if episodes.empty:
        st.info(
            f"No anomalies in this range ({f.start} to {f.end}) for these providers, teams and severities. "
            "Widen the dates or the filters to look further."
        )
        return
    _headline(episodes)
    # Anomalies are measured in the reporting currency, so every episode shares it.
    _table(episodes, names, str(episodes["currency"].iloc[0]))
    st.subheader("Actual against expected")
    days = data.anomaly_days(f.warehouse, f.start, f.end, f.providers, f.business_units, f.teams)
    _detail(_selected(episodes, names), days, names)


render()
