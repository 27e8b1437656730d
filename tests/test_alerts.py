"""`finops alerts` against a hand-made marts.cost_anomalies and a local webhook server."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import duckdb
import pytest
from click.testing import CliRunner, Result

from finops_warehouse import alerts
from finops_warehouse.alerts import alerts_command

COLUMNS = """
    anomaly_series_key varchar, charge_date date, provider varchar, service_name varchar,
    service_category varchar, team varchar, business_unit varchar, owner varchar, owner_type varchar,
    currency varchar, actual_cost decimal(38, 2), expected_cost decimal(38, 2), lower_bound decimal(38, 2),
    upper_bound decimal(38, 2), deviation_pct double, robust_score double, dollar_impact decimal(38, 2),
    direction varchar, severity varchar, is_anomaly boolean, is_suppressed boolean, suppression_reason varchar,
    anomaly_id varchar, anomaly_start_date date, anomaly_end_date date, is_ongoing boolean
"""
EC2 = ("aws|ec2|payments", "aws", "Amazon EC2", "Compute", "payments", "commerce", "payments", "team", "USD")
STORAGE = ("azure|storage|sub-1", "azure", "Storage & Backup", "Storage", None, None, "sub-1234", "account", "EUR")
BIGQUERY = ("gcp|bigquery|data", "gcp", "BigQuery", "Analytics", "data", "platform", "data", "team", "USD")
LAMBDA = ("aws|lambda|search", "aws", "AWS Lambda", "Compute", "search", "commerce", "search", "team", "USD")

# Episodes: (anomaly_id, anomaly_start_date, anomaly_end_date, is_ongoing).
NO_EPISODE = (None, None, None, False)
EC2_EPISODE = ("ec2-1001", "2026-10-01", "2026-10-03", True)
STORAGE_EPISODE = ("storage-2002", "2026-10-02", "2026-10-02", False)
LAMBDA_EPISODE = ("lambda-2003", "2026-10-02", "2026-10-02", False)
BIGQUERY_EPISODE = ("bq-5004", "2026-10-05", "2026-10-05", False)
SUPPRESSED_EPISODE = ("bq-6005", "2026-10-06", "2026-10-06", False)


def _day(
    series: tuple,
    day: str,
    costs: tuple[str, str | None, str],
    severity: str | None,
    episode: tuple = NO_EPISODE,
    direction: str = "spike",
    suppression_reason: str | None = None,
) -> tuple:
    """One row of marts.cost_anomalies; `costs` is (actual, expected, dollar impact)."""
    actual, expected, impact = costs
    is_anomaly = episode is not NO_EPISODE and suppression_reason is None
    return (
        series[0], day, *series[1:], actual, expected, expected, expected, 0.5, 4.0, impact, direction, severity,
        is_anomaly, suppression_reason is not None, suppression_reason, *episode,
    )  # fmt: skip


ROWS = [
    _day(EC2, "2026-09-30", ("3800.00", "3800.00", "0.00"), None),
    # A three-day episode: MEDIUM, then CRITICAL, then HIGH; 1,000.25 + 1,234.25 + 200.00 = 2,434.50.
    _day(EC2, "2026-10-01", ("4800.25", "3800.00", "1000.25"), "MEDIUM", EC2_EPISODE),
    _day(EC2, "2026-10-02", ("5034.25", "3800.00", "1234.25"), "CRITICAL", EC2_EPISODE),
    _day(EC2, "2026-10-03", ("5000.00", "4800.00", "200.00"), "HIGH", EC2_EPISODE),
    _day(STORAGE, "2026-10-02", ("49.90", "500.00", "450.10"), "HIGH", STORAGE_EPISODE, direction="drop"),
    # Same start day as the storage drop but a bigger impact, so it comes first.
    _day(LAMBDA, "2026-10-02", ("9100.00", "100.00", "9000.00"), "MEDIUM", LAMBDA_EPISODE),
    _day(BIGQUERY, "2026-10-05", ("220.00", None, "120.00"), "MEDIUM", BIGQUERY_EPISODE),
    # Suppressed, so is_anomaly is false and it is never alerted although its severity says CRITICAL.
    _day(BIGQUERY, "2026-10-06", ("9999.00", "200.00", "9799.00"), "CRITICAL", SUPPRESSED_EPISODE, "spike", "backfill"),
]
ALL_IN_ORDER = ["ec2-1001", "lambda-2003", "storage-2002", "bq-5004"]


@dataclass
class Webhook:
    """A local webhook: answers each POST with the next status in `statuses`, then 200, and keeps the bodies."""

    url: str
    statuses: list[int] = field(default_factory=list)
    received: list[tuple[int, dict]] = field(default_factory=list)

    @property
    def accepted(self) -> list[dict]:
        return [body for status, body in self.received if status == 200]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's own webhook must never receive test alerts, and retries must not slow the suite.
    monkeypatch.delenv(alerts.WEBHOOK_ENV, raising=False)
    monkeypatch.delenv(alerts.DASHBOARD_ENV, raising=False)
    monkeypatch.setattr(alerts, "RETRY_DELAYS", (0.01, 0.02, 0.04))


@pytest.fixture
def anomalies(tmp_path: Path) -> Path:
    path = tmp_path / "finops.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(f"create table marts.cost_anomalies ({COLUMNS})")
        con.executemany(f"insert into marts.cost_anomalies values ({', '.join(['?'] * 26)})", ROWS)
    return path


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    state = Webhook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            assert self.headers["Content-Type"] == "application/json"
            status = state.statuses.pop(0) if state.statuses else 200
            state.received.append((status, body))
            answer = b"ok" if status == 200 else b"invalid_payload"
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            """Keep the test output clean."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/secret"
    # A short poll interval: shutdown() otherwise waits up to half a second per test.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


def run(warehouse: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(alerts_command, list(args), obj=warehouse, env=env)


def ledger(warehouse: Path) -> list[tuple]:
    """(anomaly_id, webhook_host, severity) rows of meta.sent_alerts; empty when the table does not exist."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'meta' and table_name = 'sent_alerts'"
        ).fetchall()[0][0]
        if not exists:
            return []
        return con.execute("select anomaly_id, webhook_host, severity from meta.sent_alerts order by 1").fetchall()


def anomaly_ids(bodies: list[dict]) -> list[str]:
    return [parse_qs(urlsplit(dashboard_url(body)).query)["anomaly"][0] for body in bodies]


def dashboard_url(body: dict) -> str:
    texts = [block["text"]["text"] for block in body["blocks"] if "text" in block]
    links = [m.group(1) for text in texts for m in re.finditer(r"<([^|>]+)\|View in dashboard>", text)]
    assert len(links) == 1
    return links[0]


def test_sends_one_slack_message_per_episode(anomalies: Path, webhook: Webhook) -> None:
    result = run(anomalies, "--webhook", webhook.url, "--dashboard-url", "https://finops.example.com/")

    assert result.exit_code == 0, result.output
    assert anomaly_ids(webhook.accepted) == ALL_IN_ORDER
    ec2 = webhook.accepted[0]
    assert set(ec2) == {"text", "blocks"}
    assert "\n" not in ec2["text"]
    assert ec2["text"] == (
        "CRITICAL cost spike on aws Amazon EC2: USD 2,434.50 from 2026-10-01 to 2026-10-03, ongoing; owner payments"
    )
    assert all(block["type"] == "section" for block in ec2["blocks"])
    blocks_text = json.dumps(ec2["blocks"])
    for expected in ("*CRITICAL cost spike (ongoing)*", "USD 5,000.00", "USD 4,800.00", "payments / commerce"):
        assert expected in blocks_text
    link = urlsplit(dashboard_url(ec2))
    assert (link.scheme, link.netloc, link.path) == ("https", "finops.example.com", "/anomalies")
    assert parse_qs(link.query) == {
        "anomaly": ["ec2-1001"],
        "provider": ["aws"],
        "team": ["payments"],
        "start": ["2026-10-01"],
        "end": ["2026-10-03"],
    }
    storage = webhook.accepted[2]
    assert "EUR 450.10" in storage["text"]
    assert "Storage &amp; Backup" in storage["text"]
    assert "team" not in parse_qs(urlsplit(dashboard_url(storage)).query)
    assert "USD n/a" in json.dumps(webhook.accepted[3]["blocks"])
    assert "4 alert(s) sent to 127.0.0.1" in result.output
    assert "secret" not in result.output
    host = urlsplit(webhook.url).netloc
    assert ledger(anomalies) == [
        ("bq-5004", host, "MEDIUM"),
        ("ec2-1001", host, "CRITICAL"),
        ("lambda-2003", host, "MEDIUM"),
        ("storage-2002", host, "HIGH"),
    ]


def test_second_run_sends_nothing(anomalies: Path, webhook: Webhook) -> None:
    assert run(anomalies, "--webhook", webhook.url).exit_code == 0

    result = run(anomalies, env={alerts.WEBHOOK_ENV: webhook.url})

    assert result.exit_code == 0, result.output
    assert len(webhook.received) == 4
    assert "0 alert(s) sent" in result.output


def test_dashboard_url_from_the_environment(anomalies: Path, webhook: Webhook) -> None:
    result = run(anomalies, "--webhook", webhook.url, env={alerts.DASHBOARD_ENV: "http://dash:9000"})

    assert result.exit_code == 0, result.output
    assert dashboard_url(webhook.accepted[0]).startswith("http://dash:9000/anomalies?anomaly=ec2-1001&")


@pytest.mark.parametrize(
    ("min_severity", "expected"),
    [("HIGH", ["ec2-1001", "storage-2002"]), ("critical", ["ec2-1001"]), ("MEDIUM", ALL_IN_ORDER)],
)
def test_min_severity_uses_the_worst_day(
    anomalies: Path, webhook: Webhook, min_severity: str, expected: list[str]
) -> None:
    result = run(anomalies, "--webhook", webhook.url, "--min-severity", min_severity)

    assert result.exit_code == 0, result.output
    assert anomaly_ids(webhook.accepted) == expected


def test_since_filters_on_the_episode_start(anomalies: Path, webhook: Webhook) -> None:
    # The EC2 episode runs to 2026-10-03 but started on 2026-10-01, so it is left out.
    result = run(anomalies, "--webhook", webhook.url, "--since", "2026-10-02")

    assert result.exit_code == 0, result.output
    assert anomaly_ids(webhook.accepted) == ["lambda-2003", "storage-2002", "bq-5004"]


@pytest.mark.parametrize("status", [500, 429])
def test_retries_after_a_transient_error(anomalies: Path, webhook: Webhook, status: int) -> None:
    webhook.statuses = [status]

    result = run(anomalies, "--webhook", webhook.url)

    assert result.exit_code == 0, result.output
    assert [s for s, _ in webhook.received] == [status, 200, 200, 200, 200]
    assert anomaly_ids(webhook.accepted) == ALL_IN_ORDER
    assert len(ledger(anomalies)) == 4


def test_gives_up_after_three_retries(anomalies: Path, webhook: Webhook) -> None:
    webhook.statuses = [503] * 4

    result = run(anomalies, "--webhook", webhook.url)

    assert result.exit_code == 1
    assert len(webhook.received) == 4
    assert "answered HTTP 503" in result.output
    assert ledger(anomalies) == []


def test_webhook_down_is_one_clear_error(anomalies: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    result = run(anomalies, "--webhook", f"http://127.0.0.1:{port}/hook")

    assert result.exit_code == 1
    assert f"Error: webhook 127.0.0.1:{port} unreachable" in result.output
    assert "0 of 4 alert(s) sent" in result.output
    assert "Traceback" not in result.output
    assert ledger(anomalies) == []


def test_partial_failure_records_only_what_was_sent(anomalies: Path, webhook: Webhook) -> None:
    webhook.statuses = [200, 400]

    failed = run(anomalies, "--webhook", webhook.url)

    assert failed.exit_code == 1
    assert "answered HTTP 400 Bad Request: invalid_payload (anomaly lambda-2003)" in failed.output
    assert "1 of 4 alert(s) sent and recorded" in failed.output
    assert [row[0] for row in ledger(anomalies)] == ["ec2-1001"]

    rerun = run(anomalies, "--webhook", webhook.url)

    assert rerun.exit_code == 0, rerun.output
    assert anomaly_ids(webhook.accepted) == ALL_IN_ORDER
    assert "3 alert(s) sent" in rerun.output


def test_dry_run_prints_and_records_nothing(anomalies: Path, webhook: Webhook) -> None:
    result = run(anomalies, "--min-severity", "HIGH")

    assert result.exit_code == 0, result.output
    assert "would send ec2-1001: CRITICAL cost spike on aws Amazon EC2: USD 2,434.50" in result.output
    assert "would send storage-2002" in result.output
    assert "http://localhost:8501/anomalies?anomaly=ec2-1001&provider=aws&team=payments" in result.output
    assert "dry run: 2 alert(s) would be sent" in result.output
    assert webhook.received == []
    assert ledger(anomalies) == []


def test_missing_table_says_run_build(tmp_path: Path) -> None:
    empty = tmp_path / "finops.duckdb"
    duckdb.connect(str(empty)).close()

    result = run(empty, "--webhook", "http://127.0.0.1:9/hook")

    assert result.exit_code == 1
    assert "no marts.cost_anomalies table yet; run `finops build` first" in result.output
    assert "Traceback" not in result.output


def test_missing_warehouse_file(tmp_path: Path) -> None:
    result = run(tmp_path / "nowhere.duckdb")

    assert result.exit_code == 1
    assert "no warehouse file" in result.output
    assert not (tmp_path / "nowhere.duckdb").exists()


def test_rejects_a_webhook_that_is_not_http(anomalies: Path) -> None:
    result = run(anomalies, "--webhook", "file:///etc/passwd")

    assert result.exit_code == 1
    assert "--webhook must be an http:// or https:// URL" in result.output
    assert ledger(anomalies) == []
