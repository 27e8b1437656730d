"""The short summary `finops demo` prints: rows per provider and cost per provider and month."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table


def print_summary(console: Console, warehouse: Path) -> None:
    """Rows per provider, then billed and effective cost per provider, month and currency."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.sql("select x_SourceProvider, count(*) from marts.focus_costs group by 1 order by 1").fetchall()
        money = con.sql(
            """
            select x_SourceProvider, strftime(BillingPeriodStart, '%Y-%m') as month, BillingCurrency,
                   sum(BilledCost), sum(EffectiveCost)
            from marts.focus_costs
            group by all
            order by 1, 2, 3
            """
        ).fetchall()
    counts = Table(title="FOCUS rows per provider")
    counts.add_column("provider")
    counts.add_column("rows", justify="right")
    for provider, count in rows:
        counts.add_row(provider, f"{count:,}")
    console.print(counts)
    costs = Table(title="Billed and effective cost per provider and billing period")
    for name in ("provider", "billing period", "currency"):
        costs.add_column(name)
    costs.add_column("billed cost", justify="right")
    costs.add_column("effective cost", justify="right")
    for provider, month, currency, billed, effective in money:
        costs.add_row(provider, month, currency, _money(billed), _money(effective))
    console.print(costs)


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):,}"


def print_forecasts_and_anomalies(console: Console, warehouse: Path) -> None:
    """Backtest accuracy of the total-spend forecast, then the anomaly episodes and their scores."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        accuracy = con.sql(
            """
            select model, is_selected, mape, smape, coverage_80, coverage_95, origins, horizon_days
            from marts.forecast_accuracy
            where series_type = 'total'
            order by is_selected desc, mape
            """
        ).fetchall()
        episodes = con.sql(
            """
            select anomaly_start_date, max(anomaly_end_date), provider, service_name, owner, max(direction),
                   case min(case severity when 'CRITICAL' then 1 when 'HIGH' then 2 else 3 end)
                       when 1 then 'CRITICAL' when 2 then 'HIGH' else 'MEDIUM' end,
                   sum(dollar_impact), max(currency)
            from marts.cost_anomalies
            where is_anomaly
            group by anomaly_id, anomaly_start_date, provider, service_name, owner
            order by anomaly_start_date
            """
        ).fetchall()
        scores = con.sql("select * from marts.anomaly_detection_scores").fetchall()
    forecasts = Table(title="Total daily spend: rolling-origin backtest (MAPE, 80%/95% interval coverage)")
    for name in ("model", "selected", "MAPE", "sMAPE", "cover 80%", "cover 95%", "cuts x days"):
        forecasts.add_column(name, justify="left" if name == "model" else "right")
    for model, selected, mape, smape, cover_80, cover_95, origins, horizon in accuracy:
        forecasts.add_row(
            model, "yes" if selected else "", _percent(mape), _percent(smape),
            _percent(cover_80), _percent(cover_95), f"{origins} x {horizon}",
        )  # fmt: skip
    console.print(forecasts)
    flagged = Table(title="Cost anomalies")
    for name in ("from", "to", "provider", "service", "owner", "direction", "severity", "impact"):
        flagged.add_column(name, justify="right" if name == "impact" else "left")
    for start, end, provider, service, owner, direction, severity, impact, currency in episodes:
        flagged.add_row(
            str(start), str(end), provider, service, owner, direction, severity, f"{currency} {_money(impact)}"
        )
    console.print(flagged)
    for labels, detected, flagged_count, matching, precision, recall, spikes, first_day, leaks, slowest, *_ in scores:
        if labels:
            console.print(
                f"anomaly detection against {labels} labels: precision {_ratio(precision)} "
                f"({matching}/{flagged_count} episodes match a label), recall {_ratio(recall)} ({detected}/{labels}); "
                f"spikes flagged on their first day {first_day}/{spikes}; "
                f"slowest leak flagged after {slowest if slowest is not None else '-'} day(s) ({leaks} leak(s))"
            )


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def print_unit_economics(console: Console, warehouse: Path) -> None:
    """Unit costs per product for the latest month, and whether each unit cost falls as volume grows."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        months = con.sql(
            """
            select product_name, strftime(activity_month, '%Y-%m'), currency, allocated_cost, transactions,
                   cost_per_transaction, active_users, cost_per_active_user, api_calls, cost_per_1k_api_calls,
                   gross_margin_ratio
            from marts.unit_costs_monthly
            where activity_month = (select max(activity_month) from marts.unit_costs_monthly)
            order by product_name
            """
        ).fetchall()
        trends = con.sql(
            "select product, volume_metric, elasticity, trend from marts.unit_cost_trends order by 1, 2"
        ).fetchall()
    table = Table(title="Unit economics, latest month (month to date)")
    for name in ("product", "month", "cost", "transactions", "per txn", "active users", "per user", "API calls"):
        table.add_column(name, justify="left" if name in ("product", "month") else "right")
    table.add_column("per 1k calls", justify="right")
    table.add_column("margin", justify="right")
    for product, month, currency, cost, txns, per_txn, users, per_user, calls, per_1k, margin in months:
        table.add_row(
            product, month, f"{currency} {_money(cost)}", f"{txns:,}", _optional_money(per_txn), f"{users:,}",
            _optional_money(per_user), f"{calls:,}", _optional_money(per_1k),
            "-" if margin is None else f"{100 * margin:.1f}%",
        )  # fmt: skip
    console.print(table)
    for product, metric, elasticity, trend in trends:
        console.print(f"  {product} per {metric.replace('_', ' ')}: {trend} (elasticity {elasticity:.2f})")


def _optional_money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value.quantize(Decimal('0.0001')):,}"


def print_savings(console: Console, warehouse: Path, top: int = 10) -> None:
    """The largest savings opportunities of marts.recommendations and their total per month."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.sql(
            """
            select rule, resource_id, owner_team, action, reporting_currency, estimated_monthly_saving
            from marts.recommendations
            order by estimated_monthly_saving desc, recommendation_id
            """
        ).fetchall()
    table = Table(title=f"Savings opportunities (top {min(top, len(rows))} of {len(rows)})")
    for name in ("resource", "owner", "action"):
        table.add_column(name, overflow="fold")
    table.add_column("per month", justify="right")
    for _, resource, owner, action, currency, saving in rows[:top]:
        table.add_row(resource, owner, action, f"{currency} {_money(saving)}")
    console.print(table)
    currencies = {currency for *_, currency, _ in rows}
    total = sum((saving for *_, saving in rows), Decimal(0))
    console.print(f"total estimated saving: {' '.join(sorted(currencies))} {_money(total)} per month")
