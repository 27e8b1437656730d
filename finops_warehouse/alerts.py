"""`finops alerts`: send new cost anomalies to a Slack-compatible webhook, each episode once.

One alert per anomaly episode (`anomaly_id` in marts.cost_anomalies). Every alert the webhook accepted is
written to meta.sent_alerts in the same warehouse right after its POST, so a run that fails half way
sends only the missing ones next time.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import click
import duckdb

WEBHOOK_ENV = "FINOPS_ALERT_WEBHOOK"
DASHBOARD_ENV = "FINOPS_DASHBOARD_URL"
DEFAULT_DASHBOARD_URL = "http://localhost:8501"
# Lowest first: an alert goes out when its worst severity ranks at or above --min-severity.
SEVERITIES = ("MEDIUM", "HIGH", "CRITICAL")
TIMEOUT_SECONDS = 10
# Pauses before each retry of a 429 or 5xx answer; three retries, under 4 s in all.
RETRY_DELAYS: tuple[float, ...] = (0.5, 1.0, 2.0)
# Slack asks clients to wait Retry-After seconds after a 429; past this a run would look hung.
MAX_RETRY_AFTER_SECONDS = 30.0

# Worst severity, whole-episode dates and impact, and the latest day's figures. The latest day is taken
# with a window rather than arg_max because arg_max skips NULL values (an expected cost can be NULL).
EPISODES_SQL = """
with anomaly_days as (
    select
        *,
        list_position($severities::varchar[], severity) as severity_rank,
    from marts.cost_anomalies
    where is_anomaly
),

episodes as (
    select
        anomaly_id,
        max(severity_rank) as worst_rank,
        min(anomaly_start_date) as start_date,
        max(anomaly_end_date) as end_date,
        sum(dollar_impact) as total_impact,
    from anomaly_days
    group by anomaly_id
),

latest_days as (
    select *
    from anomaly_days
    qualify row_number() over (partition by anomaly_id order by charge_date desc) = 1
)

select
    episodes.anomaly_id,
    episodes.worst_rank,
    latest_days.direction,
    latest_days.provider,
    latest_days.service_name,
    latest_days.owner,
    latest_days.owner_type,
    latest_days.team,
    latest_days.business_unit,
    latest_days.currency,
    episodes.start_date,
    episodes.end_date,
    latest_days.is_ongoing,
    episodes.total_impact,
    latest_days.charge_date,
    latest_days.actual_cost,
    latest_days.expected_cost,
from episodes
inner join latest_days on episodes.anomaly_id = latest_days.anomaly_id
where episodes.worst_rank >= $min_rank
    and ($since::date is null or episodes.start_date >= $since::date)
order by episodes.start_date, abs(episodes.total_impact) desc, episodes.anomaly_id
"""


class WebhookError(Exception):
    """The webhook refused an alert or could not be reached."""


@dataclass(frozen=True)
class Alert:
    """One anomaly episode, summarised for a message."""

    anomaly_id: str
    severity: str
    direction: str
    provider: str
    service_name: str
    owner: str | None
    owner_type: str | None
    team: str | None
    business_unit: str | None
    currency: str
    start_date: date
    end_date: date
    is_ongoing: bool
    total_impact: Decimal
    latest_date: date
    latest_actual: Decimal | None
    latest_expected: Decimal | None


@click.command("alerts")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Only episodes that started on or after this day (YYYY-MM-DD); default: all.",
)
@click.option(
    "--webhook",
    envvar=WEBHOOK_ENV,
    default=None,
    help=f"Slack-compatible incoming webhook URL (env {WEBHOOK_ENV}); without one, a dry run.",
)
@click.option(
    "--min-severity",
    type=click.Choice(SEVERITIES, case_sensitive=False),
    default="MEDIUM",
    show_default=True,
    help="Skip episodes whose worst day is less severe.",
)
@click.option(
    "--dashboard-url",
    envvar=DASHBOARD_ENV,
    default=DEFAULT_DASHBOARD_URL,
    show_default=True,
    help=f"Base URL of the dashboard the alerts link to (env {DASHBOARD_ENV}).",
)
@click.pass_obj
def alerts_command(
    warehouse: Path, since: datetime | None, webhook: str | None, min_severity: str, dashboard_url: str
) -> None:
    """Send new cost anomalies to a webhook, one message per episode, never the same episode twice.

    Without --webhook (or FINOPS_ALERT_WEBHOOK) print what would be sent and record nothing.
    """
    since_day = since.date() if since else None
    if not webhook:
        _print_dry_run(read_new_alerts(warehouse, min_severity, since_day), dashboard_url)
        return
    # Checked before the warehouse is read so a mistyped URL fails before anything else happens.
    host = webhook_host(webhook)
    send_alerts(read_new_alerts(warehouse, min_severity, since_day), warehouse, webhook, host, dashboard_url)


def _print_dry_run(alerts: list[Alert], dashboard_url: str) -> None:
    for alert in alerts:
        click.echo(f"would send {alert.anomaly_id}: {summary_line(alert)}")
        click.echo(f"  {dashboard_link(dashboard_url, alert)}")
    click.echo(f"dry run: {len(alerts)} alert(s) would be sent; nothing sent or recorded (no --webhook)")


def send_alerts(alerts: list[Alert], warehouse: Path, webhook: str, host: str, dashboard_url: str) -> int:
    """POST each alert and record it in meta.sent_alerts right after; returns how many were sent.

    Raises:
        click.ClickException: The webhook refused one; those before it are sent and recorded.
    """
    ensure_ledger(warehouse)
    for sent, alert in enumerate(alerts):
        try:
            post_json(webhook, slack_payload(alert, dashboard_url))
        except WebhookError as exc:
            raise click.ClickException(
                f"{exc} (anomaly {alert.anomaly_id}); {sent} of {len(alerts)} alert(s) sent and recorded, "
                "run again to send the rest"
            ) from exc
        record_sent(warehouse, alert, host)
        click.echo(f"sent {alert.anomaly_id}: {summary_line(alert)}")
    click.echo(f"{len(alerts)} alert(s) sent to {host}")
    return len(alerts)


def webhook_host(url: str) -> str:
    """The host (and port) of a webhook URL: what the ledger and messages show instead of the secret path.

    Args:
        url: The webhook URL.

    Returns:
        `host` or `host:port`.

    Raises:
        click.ClickException: The URL is not http(s).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # The URL itself is not echoed: a Slack webhook URL is a credential.
        raise click.ClickException("--webhook must be an http:// or https:// URL with a host")
    return parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"


def read_new_alerts(warehouse: Path, min_severity: str, since: date | None) -> list[Alert]:
    """Anomaly episodes at or above `min_severity`, started on or after `since`, not sent before.

    Args:
        warehouse: The DuckDB warehouse file.
        min_severity: One of SEVERITIES.
        since: Earliest episode start day, or None for all.

    Returns:
        The alerts, by start day, then largest absolute impact first.

    Raises:
        click.ClickException: No warehouse, or no marts.cost_anomalies in it yet.
    """
    params = {"severities": list(SEVERITIES), "min_rank": SEVERITIES.index(min_severity) + 1, "since": since}
    with _connect(warehouse, read_only=True) as con:
        if not _table_exists(con, "marts", "cost_anomalies"):
            raise click.ClickException(f"{warehouse}: no marts.cost_anomalies table yet; run `finops build` first")
        rows = con.execute(EPISODES_SQL, params).fetchall()
        sent: set[str] = set()
        if _table_exists(con, "meta", "sent_alerts"):
            sent = {anomaly_id for (anomaly_id,) in con.execute("select anomaly_id from meta.sent_alerts").fetchall()}
    return [_alert(row) for row in rows if row[0] not in sent]


def ensure_ledger(warehouse: Path) -> None:
    """Create meta.sent_alerts if missing; also proves the warehouse is writable before anything is sent.

    Args:
        warehouse: The DuckDB warehouse file.
    """
    with _connect(warehouse, read_only=False) as con:
        con.execute("create schema if not exists meta")
        con.execute(
            """
            create table if not exists meta.sent_alerts (
                anomaly_id varchar primary key,
                sent_at timestamp,
                webhook_host varchar,
                severity varchar
            )
            """
        )


def record_sent(warehouse: Path, alert: Alert, host: str) -> None:
    """Write one sent alert to meta.sent_alerts, in its own short write connection.

    Args:
        warehouse: The DuckDB warehouse file.
        alert: The alert the webhook accepted.
        host: The webhook's host.

    Raises:
        click.ClickException: The ledger could not be written (the alert will be sent again next run).
    """
    # Naive UTC: the ledger column is a plain TIMESTAMP.
    sent_at = datetime.now(UTC).replace(tzinfo=None)
    try:
        with _connect(warehouse, read_only=False) as con:
            # `do nothing`: a concurrent run may have sent and recorded the same episode a moment earlier.
            con.execute(
                "insert into meta.sent_alerts values (?, ?, ?, ?) on conflict do nothing",
                [alert.anomaly_id, sent_at, host, alert.severity],
            )
    except click.ClickException as exc:
        raise click.ClickException(
            f"anomaly {alert.anomaly_id} was sent but not recorded in meta.sent_alerts, so it will be sent again "
            f"next run: {exc.message}"
        ) from exc


def post_json(url: str, payload: dict[str, object]) -> None:
    """POST `payload` as JSON, retrying 429 and 5xx answers after RETRY_DELAYS.

    Args:
        url: The webhook URL.
        payload: The message.

    Raises:
        WebhookError: A non-2xx answer after the retries, or no connection.
    """
    host = urlsplit(url).netloc.rpartition("@")[2]
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    for delay in (*RETRY_DELAYS, None):
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                response.read()
            return
        except urllib.error.HTTPError as exc:
            with exc:
                detail = exc.read(200).decode(errors="replace").strip()
                retry_after = _retry_after(exc.headers.get("Retry-After"))
            if delay is None or not (exc.code == 429 or exc.code >= 500):
                raise WebhookError(f"webhook {host} answered HTTP {exc.code} {exc.reason}: {detail}") from exc
            time.sleep(max(delay, retry_after))
        except (OSError, http.client.HTTPException) as exc:
            # URLError (connection refused, DNS) and timeouts are OSErrors; a garbled answer is HTTPException.
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise WebhookError(f"webhook {host} unreachable: {reason}") from exc


def slack_payload(alert: Alert, dashboard_url: str) -> dict[str, object]:
    """The Slack message for one alert: a one-line fallback `text` and mrkdwn section blocks.

    Args:
        alert: The alert.
        dashboard_url: Base URL of the dashboard.

    Returns:
        The JSON-ready payload.
    """
    ongoing = " (ongoing)" if alert.is_ongoing else ""
    owner = f"{alert.owner or 'unowned'} ({alert.owner_type})" if alert.owner_type else alert.owner or "unowned"
    headline = f"*{alert.severity} cost {alert.direction}{ongoing}*: {alert.provider} {alert.service_name}"
    fields = [
        f"*Impact*\n{format_money(alert.total_impact, alert.currency)}",
        f"*Period*\n{alert.start_date.isoformat()} to {alert.end_date.isoformat()}{ongoing}",
        f"*Latest day ({alert.latest_date.isoformat()})*\n"
        f"actual {format_money(alert.latest_actual, alert.currency)} vs expected "
        f"{format_money(alert.latest_expected, alert.currency)}",
        f"*Owner*\n{owner}",
        f"*Team / business unit*\n{alert.team or '-'} / {alert.business_unit or '-'}",
    ]
    link = dashboard_link(dashboard_url, alert)
    return {
        "text": _mrkdwn_escape(summary_line(alert)),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": _mrkdwn_escape(headline)}},
            {"type": "section", "fields": [{"type": "mrkdwn", "text": _mrkdwn_escape(field)} for field in fields]},
            {"type": "section", "text": {"type": "mrkdwn", "text": f"<{link}|View in dashboard>"}},
        ],
    }


def summary_line(alert: Alert) -> str:
    """One line: severity, direction, where, how much, when, whose.

    Args:
        alert: The alert.

    Returns:
        The line, unescaped.
    """
    ongoing = ", ongoing" if alert.is_ongoing else ""
    return (
        f"{alert.severity} cost {alert.direction} on {alert.provider} {alert.service_name}: "
        f"{format_money(alert.total_impact, alert.currency)} from {alert.start_date.isoformat()} "
        f"to {alert.end_date.isoformat()}{ongoing}; owner {alert.owner or 'unowned'}"
    )


def dashboard_link(base_url: str, alert: Alert) -> str:
    """The Anomalies page of the dashboard, filtered to this episode through query parameters.

    Args:
        base_url: Base URL of the dashboard.
        alert: The alert.

    Returns:
        `{base}/anomalies?anomaly=...&provider=...&team=...&start=...&end=...`; `team` is left out when the
        episode has no team (account-owned costs).
    """
    params = {
        "anomaly": alert.anomaly_id,
        "provider": alert.provider,
        "team": alert.team,
        "start": alert.start_date.isoformat(),
        "end": alert.end_date.isoformat(),
    }
    query = urlencode({name: value for name, value in params.items() if value is not None})
    return f"{base_url.rstrip('/')}/anomalies?{query}"


def format_money(amount: Decimal | None, currency: str) -> str:
    """`USD 1,234.50`; `USD n/a` when there is no amount (no expected cost yet).

    Args:
        amount: The amount.
        currency: ISO currency code.

    Returns:
        The formatted amount.
    """
    return f"{currency} n/a" if amount is None else f"{currency} {amount:,.2f}"


def _alert(row: tuple) -> Alert:
    # EPISODES_SQL selects Alert's fields in order, with the worst severity as a rank in second place.
    anomaly_id, worst_rank, *rest = row
    return Alert(anomaly_id, SEVERITIES[worst_rank - 1], *rest)


def _mrkdwn_escape(text: str) -> str:
    # Slack reads &, < and > as control characters in mrkdwn; service names such as "Storage & Backup" exist.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _retry_after(value: str | None) -> float:
    # Only the seconds form; an HTTP-date Retry-After falls back to the normal backoff.
    try:
        return min(float(value), MAX_RETRY_AFTER_SECONDS) if value else 0.0
    except ValueError:
        return 0.0


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    query = "select count(*) from information_schema.tables where table_schema = ? and table_name = ?"
    return con.execute(query, [schema, table]).fetchall()[0][0] > 0


@contextmanager
def _connect(warehouse: Path, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    if not warehouse.is_file():
        raise click.ClickException(f"{warehouse}: no warehouse file; load data and run `finops build` first")
    try:
        con = duckdb.connect(str(warehouse), read_only=read_only)
    except duckdb.IOException as exc:
        # Typically another process (a running `finops build`) holds the write lock.
        raise click.ClickException(f"{warehouse}: cannot open the warehouse: {str(exc).splitlines()[0]}") from exc
    try:
        yield con
    finally:
        con.close()
