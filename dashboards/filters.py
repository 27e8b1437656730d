"""The global filters every page shares: set in the sidebar, kept in the URL so a view can be shared by link.

The query string holds `start`, `end` (YYYY-MM-DD), and `provider`, `business_unit`, `team`, each
repeated per value (none means all). The alert webhook links to the Anomalies page with the same names,
so a link from an alert opens the dashboard filtered to the anomaly's provider, team and days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import streamlit as st

from dashboards import data

START, END, PROVIDER, BUSINESS_UNIT, TEAM = "start", "end", "provider", "business_unit", "team"
# A month of days by default: enough for a trend, and the top movers compare it with the month before.
DEFAULT_DAYS = 30
_CURRENT = "_filters"


@dataclass(frozen=True)
class Filters:
    """What the sidebar picked; an empty tuple means every value. Providers are codes (aws, azure, gcp)."""

    warehouse: str
    start: date
    end: date
    providers: tuple[str, ...]
    business_units: tuple[str, ...]
    teams: tuple[str, ...]
    data_from: date
    data_through: date

    def describe(self, provider_names: dict[str, str]) -> str:
        """`2026-10-23 to 2026-11-21 · AWS, Microsoft · team sre`, for page captions."""
        parts = [f"{self.start} to {self.end}"]
        parts.append(", ".join(provider_names.get(p, p) for p in self.providers) or "all providers")
        if self.business_units:
            parts.append("business unit " + ", ".join(self.business_units))
        if self.teams:
            parts.append("team " + ", ".join(self.teams))
        return " · ".join(parts)


def _url_dates(bounds: tuple[date, date]) -> tuple[date, date]:
    """The range in the URL, clamped to the data; the last DEFAULT_DAYS days of data otherwise."""
    first, last = bounds
    default_start = max(first, last - timedelta(days=DEFAULT_DAYS - 1))
    picked = []
    for key, default in ((START, default_start), (END, last)):
        try:
            value = date.fromisoformat(st.query_params.get(key, ""))
        except ValueError:
            value = default
        picked.append(min(max(value, first), last))
    start, end = picked
    return (start, end) if start <= end else (default_start, last)


def _url_values(key: str, known: list[str], aliases: dict[str, str] | None = None) -> list[str]:
    """The URL's values for `key` that name a known option (case-insensitively, or by an alias)."""
    lookup = {option.lower(): option for option in known}
    lookup.update({alias.lower(): option for alias, option in (aliases or {}).items()})
    picked = [lookup.get(value.strip().lower()) for value in st.query_params.get_all(key)]
    return list(dict.fromkeys(value for value in picked if value is not None))


def _seed_from_url(bounds: tuple[date, date], providers: dict[str, str], org: dict[str, list[str]]) -> None:
    """Put the URL's filters into the widgets' state when a session starts (or lost them after an error).

    From then on the widgets own the values and the URL follows them (`_write_url`): reading the URL on
    every run would undo a change, because the browser sends the old query string with it.
    """
    start, end = _url_dates(bounds)
    all_teams = sorted({team for teams in org.values() for team in teams})
    seeds = {
        START: start,
        END: end,
        # An alert link says `provider=aws`; a shared link may say `provider=AWS` or the display name.
        PROVIDER: _url_values(PROVIDER, list(providers), {name: code for code, name in providers.items()}),
        BUSINESS_UNIT: _url_values(BUSINESS_UNIT, sorted(org)),
        TEAM: _url_values(TEAM, all_teams),
    }
    for key, value in seeds.items():
        if key not in st.session_state:
            st.session_state[key] = value


def _write_url(filters: Filters) -> None:
    """Mirror the filters into the query string; only keys that change are written."""
    wanted = {
        START: [filters.start.isoformat()],
        END: [filters.end.isoformat()],
        PROVIDER: list(filters.providers),
        BUSINESS_UNIT: list(filters.business_units),
        TEAM: list(filters.teams),
    }
    for key, values in wanted.items():
        if st.query_params.get_all(key) == values:
            continue
        if values:
            st.query_params[key] = values
        else:
            del st.query_params[key]


def sidebar(warehouse: str, bounds: tuple[date, date]) -> None:
    """Draw the filters in the sidebar, keep the URL in step, and remember them for the page.

    Stops the run with a message while the range is upside down.
    """
    providers = data.provider_names(warehouse)
    org = data.teams_by_business_unit(warehouse)
    _seed_from_url(bounds, providers, org)
    first, last = bounds
    with st.sidebar:
        st.caption(f"Data from {first} to {last}.")
        start = st.date_input("From", key=START, min_value=first, max_value=last, format="YYYY-MM-DD")
        end = st.date_input("To", key=END, min_value=first, max_value=last, format="YYYY-MM-DD")
        picked_providers = st.multiselect(
            "Providers", options=list(providers), format_func=providers.get, key=PROVIDER, placeholder="All providers"
        )
        business_units = st.multiselect(
            "Business units", options=sorted(org), key=BUSINESS_UNIT, placeholder="All business units"
        )
        team_options = sorted({team for unit in business_units or org for team in org[unit]})
        # A team outside the business units just picked would otherwise filter everything out.
        st.session_state[TEAM] = [team for team in st.session_state[TEAM] if team in team_options]
        teams = st.multiselect("Teams", options=team_options, key=TEAM, placeholder="All teams")
    if start > end:
        st.sidebar.error("The start date is after the end date.")
        st.stop()
    filters = Filters(warehouse, start, end, tuple(picked_providers), tuple(business_units), tuple(teams), first, last)
    _write_url(filters)
    st.session_state[_CURRENT] = filters


def current() -> Filters:
    """The filters the sidebar set in this run; pages call this first."""
    return st.session_state[_CURRENT]


def require(filters: Filters, *tables: str) -> None:
    """Stop the page with an explanation when a mart it reads has not been built in this warehouse."""
    missing = [table for table in tables if table not in data.table_names(filters.warehouse)]
    if missing:
        st.info(
            f"This page reads {', '.join(f'`{t}`' for t in missing)}, which the warehouse does not have yet. "
            f"{data.BUILD_HINT}"
        )
        st.stop()
