"""Data quality: is each source fresh against its SLA, which rows were rejected, how much cost carries a
team tag, and does FOCUS add up to every provider invoice."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
import streamlit as st

from dashboards import charts, data, filters
from dashboards.filters import Filters

WITHIN_SLA, LATE, NEVER = "within SLA", "late", "never loaded"
MATCHES = "matches"
_COVERAGE_PARTS = {
    "direct_tag_cost": "Team tag",
    "virtual_tag_cost": "Virtual tag",
    "sub_account_owner_cost": "Account owner",
    "shared_cost": "Shared split",
    "unallocated_cost": "Unallocated",
}


def freshness(loads: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """One row per source with an SLA: its latest successful load, hours since, and the verdict."""
    by_source = loads.set_index("source")
    rows = []
    for source, sla_hours in data.SOURCE_SLA_HOURS.items():
        load = by_source.loc[source] if source in by_source.index else None
        last = None if load is None or pd.isna(load["last_loaded_at"]) else load["last_loaded_at"]
        hours = None if last is None else round((now - last).total_seconds() / 3600, 1)
        rows.append(
            {
                "source": source,
                "status": NEVER if hours is None else WITHIN_SLA if hours <= sla_hours else LATE,
                "sla_hours": sla_hours,
                "last_loaded_at": last,
                "hours_since": hours,
                "files_loaded": 0 if load is None else int(load["files_loaded"]),
                "files_failed": 0 if load is None else int(load["files_failed"]),
                "rows_loaded": 0 if load is None else int(load["rows_loaded"]),
                "rows_rejected": 0 if load is None else int(load["rows_rejected"]),
                "last_error": "" if load is None or pd.isna(load["last_error"]) else load["last_error"],
            }
        )
    return pd.DataFrame(rows)


def reconciliation_status(invoice: Decimal | None, billed: Decimal | None) -> str:
    if invoice is None or pd.isna(invoice):
        return "only in FOCUS"
    if billed is None or pd.isna(billed):
        return "missing from FOCUS"
    return MATCHES if invoice == billed else "differs"


def _freshness_section(fresh: pd.DataFrame) -> None:
    st.subheader("Freshness")
    never = fresh.loc[fresh["status"] == NEVER, "source"].tolist()
    st.caption(
        "The latest successful `finops load` of each source (meta.load_log) against its SLA in hours."
        + (f" Never loaded: {', '.join(never)}." if never else "")
        + (" Without fx loads, exchange rates come from the fx_rates seed." if "fx" in never else "")
    )
    st.dataframe(
        fresh,
        hide_index=True,
        height="content",
        column_config={
            "source": st.column_config.TextColumn("Source"),
            "status": st.column_config.TextColumn("Status"),
            "sla_hours": st.column_config.NumberColumn("SLA (hours)"),
            "last_loaded_at": st.column_config.DatetimeColumn("Last loaded (UTC)", format="YYYY-MM-DD HH:mm"),
            "hours_since": st.column_config.NumberColumn("Hours since", format="%.1f"),
            "files_loaded": st.column_config.NumberColumn("Files loaded"),
            "files_failed": st.column_config.NumberColumn("Files failed"),
            "rows_loaded": st.column_config.NumberColumn("Rows loaded", format="%,d"),
            "rows_rejected": st.column_config.NumberColumn("Rows rejected", format="%,d"),
            "last_error": st.column_config.TextColumn("Last failure", width="large"),
        },
    )


def _pipeline_runs_section(runs: pd.DataFrame) -> None:
    st.subheader("Pipeline runs")
    if runs.empty:
        st.info(
            "No `finops watch` cycles recorded (marts.pipeline_runs): run `finops watch LANDING` to load and build "
            "each delivery as it lands."
        )
        return
    finished = runs.dropna(subset=["latency_seconds"])
    succeeded = finished[finished["status"] == "succeeded"]
    latest = f" The latest succeeded cycle took {succeeded['latency_seconds'].iloc[0]:.1f} s." if len(succeeded) else ""
    st.caption(
        f"The latest {len(runs):,} watch cycles, newest first: one per delivery, from landing to the end of its load, "
        f"build and alerts.{latest}"
    )
    st.dataframe(
        runs,
        hide_index=True,
        column_config={
            "run_id": st.column_config.TextColumn("Cycle"),
            "loader_source": st.column_config.TextColumn("Source"),
            "status": st.column_config.TextColumn("Status"),
            "landed_at": st.column_config.DatetimeColumn("Landed (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "started_at": st.column_config.DatetimeColumn("Started (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "finished_at": st.column_config.DatetimeColumn("Finished (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            "file_count": st.column_config.NumberColumn("Files"),
            "rows_loaded": st.column_config.NumberColumn("Rows loaded", format="%,d"),
            "rows_rejected": st.column_config.NumberColumn("Rows rejected", format="%,d"),
            "models_rebuilt": st.column_config.NumberColumn("Models rebuilt"),
            "detect_seconds": st.column_config.NumberColumn("Detect (s)", format="%.1f"),
            "load_seconds": st.column_config.NumberColumn("Load (s)", format="%.1f"),
            "build_seconds": st.column_config.NumberColumn("Build (s)", format="%.1f"),
            "alerts_seconds": st.column_config.NumberColumn("Alerts (s)", format="%.1f"),
            "latency_seconds": st.column_config.NumberColumn("Latency (s)", format="%.1f"),
            "error": st.column_config.TextColumn("Error", width="large"),
        },
    )
    if not finished.empty:
        st.altair_chart(charts.pipeline_latency_chart(finished), width="stretch")


def _rejects_section(rejected: pd.DataFrame, total: int) -> None:
    st.subheader("Rejected rows")
    if rejected.empty:
        st.success("No rows rejected by any load: every row of every file loaded.", icon=":material/check:")
        return
    shown = f"the latest {len(rejected):,} of {total:,}" if total > len(rejected) else f"all {total:,}"
    st.caption(
        f"Rows a loader could not read, {shown}, newest first; the rest of each file loaded (meta.rejected_rows)."
    )
    st.dataframe(
        rejected,
        hide_index=True,
        column_config={
            "rejected_at": st.column_config.DatetimeColumn("Rejected (UTC)", format="YYYY-MM-DD HH:mm"),
            "source": st.column_config.TextColumn("Source"),
            "file": st.column_config.TextColumn("File"),
            "line_number": st.column_config.NumberColumn("Line"),
            "reason": st.column_config.TextColumn("Reason", width="large"),
            "raw_text": st.column_config.TextColumn("Row as delivered"),
        },
    )


def _coverage_table(daily: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """Per provider and currency: the share of effective cost owned by each allocation step, exact sums."""
    money = ["effective_cost", *_COVERAGE_PARTS, "unknown_team_tag_cost"]
    totals = daily.groupby(["provider", "currency"], as_index=False)[money].agg(lambda values: sum(values, Decimal(0)))
    for part in _COVERAGE_PARTS:
        totals[part] = [
            float(value / cost) if cost > 0 else None
            for value, cost in zip(totals[part], totals["effective_cost"], strict=True)
        ]
    return totals.assign(provider=totals["provider"].map(names).fillna(totals["provider"]))


def _coverage_section(f: Filters, names: dict[str, str]) -> None:
    st.subheader("Tag coverage")
    if "marts.tag_coverage" not in data.table_names(f.warehouse):
        st.info(f"The warehouse has no `marts.tag_coverage` yet. {data.BUILD_HINT}")
        return
    daily = data.tag_coverage(f.warehouse, f.start, f.end, f.providers)
    if daily.empty:
        st.info(f"No cost in this range ({f.start} to {f.end}) for these providers.")
        return
    st.caption(
        f"{f.start} to {f.end}: how each provider's effective cost found its owning team. Business unit and team "
        "filters do not apply: this is about the cost that may have no team."
    )
    st.dataframe(
        _coverage_table(daily, names),
        hide_index=True,
        height="content",
        column_config={
            "provider": st.column_config.TextColumn("Provider"),
            "currency": st.column_config.TextColumn("Currency"),
            "effective_cost": st.column_config.NumberColumn("Effective cost", format="%,.2f"),
            **{part: st.column_config.NumberColumn(label, format="percent") for part, label in _COVERAGE_PARTS.items()},
            "unknown_team_tag_cost": st.column_config.NumberColumn(
                "Unknown team tag", format="%,.2f", help="Cost tagged with a team name the org hierarchy lacks."
            ),
        },
    )
    chart = daily.assign(
        provider_name=daily["provider"].map(names).fillna(daily["provider"]),
        tag_coverage=[
            float(tagged / cost) if cost > 0 else None
            for tagged, cost in zip(daily["direct_tag_cost"], daily["effective_cost"], strict=True)
        ],
    )
    st.altair_chart(charts.tag_coverage_chart(chart.dropna(subset=["tag_coverage"])), width="stretch")


def _reconciliation(f: Filters) -> pd.DataFrame | None:
    invoices = data.invoice_reconciliation(f.warehouse)
    if invoices is None:
        return None
    if f.providers:
        invoices = invoices[invoices["provider"].isin(f.providers)]
    statuses = [
        reconciliation_status(invoice, billed)
        for invoice, billed in zip(invoices["invoice_total"], invoices["billed_total"], strict=True)
    ]
    invoices = invoices.assign(
        difference=[
            invoice - billed if not (pd.isna(invoice) or pd.isna(billed)) else None
            for invoice, billed in zip(invoices["invoice_total"], invoices["billed_total"], strict=True)
        ],
        status=statuses,
        reconciled=[status == MATCHES for status in statuses],
    )
    # Partitions that do not reconcile come first.
    return invoices.sort_values(["reconciled", "provider", "billing_partition"])


def _reconciliation_section(invoices: pd.DataFrame | None, names: dict[str, str]) -> None:
    st.subheader("Reconciliation to invoices")
    if invoices is None:
        st.info(
            "The warehouse has no `marts.invoice_reconciliation` view yet, or this connection cannot read it. "
            + data.BUILD_HINT
        )
        return
    st.caption(
        "Per billing partition (payer or billing account and period): the invoice total computed from the delivered "
        "rows (AWS unblended cost, Azure actual cost, GCP cost plus credits) against the sum of FOCUS BilledCost. "
        "Every billing period loaded, whatever the date range."
    )
    st.dataframe(
        invoices.assign(provider=invoices["provider"].map(names).fillna(invoices["provider"])),
        hide_index=True,
        column_order=[
            "status",
            "provider",
            "billing_partition",
            "currency",
            "invoice_total",
            "billed_total",
            "difference",
        ],
        column_config={
            "status": st.column_config.TextColumn("Status"),
            "provider": st.column_config.TextColumn("Provider"),
            "billing_partition": st.column_config.TextColumn("Billing partition", width="large"),
            "currency": st.column_config.TextColumn("Currency"),
            "invoice_total": st.column_config.NumberColumn("Invoice (raw rows)", format="%,.2f"),
            "billed_total": st.column_config.NumberColumn("FOCUS BilledCost", format="%,.2f"),
            "difference": st.column_config.NumberColumn("Difference", format="%+,.6f"),
        },
    )


def _headline(fresh: pd.DataFrame | None, rejected_total: int, invoices: pd.DataFrame | None) -> None:
    columns = st.columns(3)
    if fresh is not None:
        within = int((fresh["status"] == WITHIN_SLA).sum())
        columns[0].metric("Sources within SLA", f"{within} of {len(fresh)}", border=True)
        columns[1].metric(
            "Rows rejected", f"{rejected_total:,}", help="By every load so far (meta.load_log).", border=True
        )
    if invoices is not None:
        matched = int((invoices["status"] == MATCHES).sum())
        columns[2].metric(
            "Invoices reconciled",
            f"{matched} of {len(invoices)}",
            help="Billing partitions whose FOCUS BilledCost equals the invoice total exactly.",
            border=True,
        )


def render() -> None:
    f = filters.current()
    names = data.provider_names(f.warehouse)
    st.title("Data quality")
    loads = data.source_loads(f.warehouse)
    # Without the log nothing is known about loads: saying "never loaded" or "no rejects" would be wrong.
    has_log = "meta.load_log" in data.table_names(f.warehouse)
    fresh = freshness(loads, datetime.now(UTC)) if has_log else None
    rejected_total = int(loads["rows_rejected"].sum()) if not loads.empty else 0
    invoices = _reconciliation(f)
    _headline(fresh, rejected_total, invoices)
    if fresh is None:
        st.subheader("Freshness and rejected rows")
        st.info(
            "This warehouse has no `meta.load_log` this connection can read: the loaders write it with every "
            "`finops load` (on Snowflake, the dashboard's role needs SELECT on the meta schema)."
        )
    else:
        _freshness_section(fresh)
        _rejects_section(data.rejected_rows(f.warehouse), rejected_total)
    _pipeline_runs_section(data.pipeline_runs(f.warehouse))
    _coverage_section(f, names)
    _reconciliation_section(invoices, names)


render()
