"""`finops serve-events`: auth, batches refused whole with a reason, durable landing files the loader reads,
idempotent retries, and no accepted event lost when the server is killed."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import query
from test_events import CLEAR_VALUES, event

from finops_warehouse.events_endpoint.server import EventsServer, Settings
from ingestion.pipeline import run_load

TOKEN = "test-token-6f1d2c0b9a"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FINOPS = [sys.executable, "-m", "finops_warehouse.cli"]


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]


def request(
    address: tuple[str, int],
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    connection = http.client.HTTPConnection(*address, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, dict(response.headers), json.loads(response.read() or b"{}"))
    finally:
        connection.close()


def post(address: tuple[str, int], batch: Any, headers: dict[str, str] | None = None) -> Reply:
    body = batch if isinstance(batch, bytes) else json.dumps(batch).encode()
    return request(address, "POST", "/events", body, {**AUTH, "Content-Type": "application/json", **(headers or {})})


def landed(landing: Path) -> list[str]:
    """Every file in the landing folder, temp files included: a refused batch must leave nothing at all."""
    return sorted(p.name for p in landing.iterdir())


def landed_event_ids(landing: Path) -> list[str]:
    return sorted(json.loads(line)["event_id"] for f in landing.glob("*.jsonl") for line in f.read_text().splitlines())


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[tuple[tuple[str, int], Path]]:
    """The real server on a free port in a thread, with small limits so the limit tests stay fast."""
    landing = tmp_path / "landing"
    settings = Settings(landing, TOKEN, max_body_bytes=64 * 1024, max_events=20)
    server = EventsServer(("127.0.0.1", 0), settings)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield ("127.0.0.1", server.server_address[1]), landing
    server.shutdown()
    server.server_close()


def test_health_answers_without_a_token(endpoint: tuple[tuple[str, int], Path]) -> None:
    address, _ = endpoint
    reply = request(address, "GET", "/health")
    assert (reply.status, reply.body) == (200, {"status": "ok"})


@pytest.mark.parametrize(
    "authorization",
    [None, f"Bearer {TOKEN}x", "Bearer ", f"Basic {TOKEN}", TOKEN],
    ids=["none", "wrong", "empty", "basic-scheme", "no-scheme"],
)
def test_unauthenticated_requests_are_401_and_write_nothing(
    endpoint: tuple[tuple[str, int], Path], authorization: str | None
) -> None:
    address, landing = endpoint
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    body = json.dumps([event("e1", "2026-10-01T10:00:00Z")]).encode()
    reply = request(address, "POST", "/events", body, headers)
    assert reply.status == 401
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    assert reply.body == {"error": "missing or wrong bearer token"}
    assert landed(landing) == []


GOOD = event("g1", "2026-10-01T10:00:00Z")


JSON = "application/json"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error"),
    [
        (b'{"events": [1,}', JSON, 400, "invalid JSON at line 1 column 15 (char 14): Expecting value"),
        (b'[{"event_id": NaN}]', JSON, 400, "invalid JSON at line 1 column 1 (char 0): NaN is not valid JSON"),
        (b"[]", JSON, 400, "empty batch: no events"),
        (b'{"events": []}', JSON, 400, "empty batch: no events"),
        (b'{"rows": []}', JSON, 400, 'expected {"events": [...]} or a JSON array of events'),
        (json.dumps([GOOD]).encode(), "text/plain", 415, "Content-Type must be application/json, not text/plain"),
        (json.dumps([GOOD] * 21).encode(), JSON, 413, "too many events: 21 in one batch, at most 20"),
        (b"[" + b" " * (64 * 1024) + b"]", JSON, 413, "body of 65538 bytes is over the limit of 65536"),
    ],
    ids=["bad-json", "nan", "empty-array", "empty-events", "wrong-shape", "content-type", "too-many", "too-big"],
)
def test_malformed_requests_are_refused_with_the_reason_and_write_nothing(
    endpoint: tuple[tuple[str, int], Path], body: bytes, content_type: str, status: int, error: str
) -> None:
    address, landing = endpoint
    reply = request(address, "POST", "/events", body, {**AUTH, "Content-Type": content_type})
    assert (reply.status, reply.body) == (status, {"error": error})
    assert landed(landing) == []


def test_a_batch_with_bad_events_is_refused_whole_naming_each_one(endpoint: tuple[tuple[str, int], Path]) -> None:
    address, landing = endpoint
    missing_type = {k: v for k, v in event("b2", "2026-10-01T10:00:00Z").items() if k != "event_type"}
    batch = [
        GOOD,
        event("b1", "2026-10-01T10:00:00Z", event_type="refund"),
        missing_type,
        # Python's fromisoformat reads an ISO week date; DuckDB, which the loader uses, does not.
        event("b3", "2026-W40-1"),
        event("b4", "2026-10-01T10:00:00Z", quantity="many"),
        event("b5", "2026-10-01T10:00:00Z", revenue="lots"),
        event("b6", "2026-10-01T10:00:00Z", _source_file="forged"),
        "not an event",
    ]
    reply = post(address, {"events": batch})
    assert reply.status == 422
    assert reply.body == {
        "error": "7 of 8 events are invalid; nothing was accepted",
        "problems": [
            {
                "index": 1,
                "field": "event_type",
                "problem": "unknown event type 'refund' (known: transaction, active_user, api_call; "
                "declare more in FINOPS_EVENT_TYPES)",
            },
            {"index": 2, "field": "event_type", "problem": "missing"},
            {"index": 3, "field": "occurred_at", "problem": "occurred_at is not a timestamp: 2026-W40-1"},
            {"index": 4, "field": "quantity", "problem": "quantity is not a whole number: many"},
            {"index": 5, "field": "revenue", "problem": "revenue is not a number: lots"},
            {"index": 6, "field": "_source_file", "problem": "field names starting with _ are reserved for the loader"},
            {"index": 7, "field": None, "problem": "an event must be a JSON object, not a string"},
        ],
    }
    assert landed(landing) == []


def test_unknown_paths_and_wrong_methods(endpoint: tuple[tuple[str, int], Path]) -> None:
    address, landing = endpoint
    assert request(address, "GET", "/nope").status == 404
    wrong = request(address, "GET", "/events", headers=AUTH)
    assert (wrong.status, wrong.headers["Allow"]) == (405, "POST")
    assert request(address, "DELETE", "/health").status == 405
    assert landed(landing) == []


def test_accepted_batches_land_as_files_the_loader_loads_exactly(
    endpoint: tuple[tuple[str, int], Path], warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    address, landing = endpoint
    monkeypatch.setenv("FINOPS_EVENT_TYPES", "signup")
    first = [event(f"a{i}", f"2026-10-0{i}T10:00:00Z") for i in range(1, 4)]
    second = [
        event("s1", "2026-10-04 09:30:00", event_type="signup", user_email="bob@example.org"),
        event("s2", "2026-10-04", event_type="API_CALL", quantity="250", revenue=None),
    ]
    replies = [post(address, {"events": first}), post(address, second)]
    assert [(r.status, r.body["accepted"]) for r in replies] == [(202, 3), (202, 2)]
    assert landed(landing) == sorted(r.body["file"] for r in replies)
    assert replies[0].body["file"] < replies[1].body["file"], "file names sort in arrival order"

    report = run_load("events", str(landing), warehouse)
    assert [f.rows_rejected for f in report.files] == [0, 0]
    rows = query(warehouse, "select event_id, event_type from raw_events.business_events order by 1")
    # As delivered (the type's case included), and with no personal value in clear.
    assert rows == [(f"a{i}", "transaction") for i in (1, 2, 3)] + [("s1", "signup"), ("s2", "API_CALL")]
    emails = query(warehouse, "select distinct user_email from raw_events.business_events")
    assert not {email for (email,) in emails} & set(CLEAR_VALUES)


def test_a_retried_idempotency_key_is_written_once(endpoint: tuple[tuple[str, int], Path]) -> None:
    address, landing = endpoint
    batch = [GOOD]
    first = post(address, batch, {"Idempotency-Key": "batch-0001"})
    again = post(address, batch, {"Idempotency-Key": "batch-0001"})
    assert first.status == again.status == 202
    assert first.body == again.body
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert landed(landing) == [first.body["file"]]

    reused = post(address, [event("other", "2026-10-01T10:00:00Z")], {"Idempotency-Key": "batch-0001"})
    assert reused.status == 409
    by_batch_id = [post(address, {"batch_id": "b-7", "events": batch}) for _ in range(2)]
    assert by_batch_id[0].body == by_batch_id[1].body
    assert len(landed(landing)) == 2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(tmp_path: Path, landing: Path, port: int) -> subprocess.Popen[str]:
    """`finops serve-events` as a user runs it, once it answers /health (bounded wait)."""
    env = {**os.environ, "FINOPS_EVENTS_TOKEN": TOKEN, "FINOPS_EVENTS_LANDING": str(landing)}
    command = [*FINOPS, "--warehouse", str(tmp_path / "w" / "finops.duckdb"), "serve-events", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            if request(("127.0.0.1", port), "GET", "/health").status == 200:
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError("serve-events did not answer /health within 20 s")


def test_no_accepted_event_is_lost_across_a_kill_and_restart(tmp_path: Path, warehouse: Path) -> None:
    landing, port = tmp_path / "landing", free_port()
    address = ("127.0.0.1", port)
    accepted: list[str] = []

    server = start_server(tmp_path, landing, port)
    for n in range(3):
        batch = [event(f"r{n}-{i}", "2026-10-01T10:00:00Z") for i in range(5)]
        key = {"Idempotency-Key": "retried-across-restart"} if n == 2 else {}
        reply = post(address, batch, key)
        assert reply.status == 202
        accepted += [e["event_id"] for e in batch]
    server.kill()  # SIGKILL right after the 2xx: no chance to flush or clean up anything
    server.wait(timeout=10)

    server = start_server(tmp_path, landing, port)
    try:
        same_batch = [event(f"r2-{i}", "2026-10-01T10:00:00Z") for i in range(5)]
        retried = post(address, same_batch, {"Idempotency-Key": "retried-across-restart"})
        assert (retried.status, retried.headers.get("Idempotent-Replayed")) == (202, "true")
        later = [event(f"r3-{i}", "2026-10-02T10:00:00Z") for i in range(4)]
        assert post(address, later).status == 202
        accepted += [e["event_id"] for e in later]
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=10) == 0
    finally:
        server.kill()
    _, log = server.communicate()
    assert "POST /events 202 events=5" in log
    assert TOKEN not in log and "r0-0" not in log, "the log holds neither the token nor event bodies"

    assert landed_event_ids(landing) == sorted(accepted), "every accepted event is landed, the retried one once"
    assert not [p for p in landing.iterdir() if not p.name.endswith(".jsonl")]
    run_load("events", str(landing), warehouse)
    assert query(warehouse, "select count(*), count(distinct event_id) from raw_events.business_events") == [(19, 19)]


def test_the_server_does_not_start_without_a_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "FINOPS_EVENTS_TOKEN"}
    warehouse = tmp_path / "w" / "finops.duckdb"
    command = [*FINOPS, "--warehouse", str(warehouse), "serve-events", "--landing", str(tmp_path / "landing")]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 1
    token_file = warehouse.parent / ".secrets" / "events_token"
    assert (result.stdout + result.stderr).strip().splitlines() == [
        f"error: no events token: set FINOPS_EVENTS_TOKEN or write one to {token_file} (e.g. openssl rand -hex 32)"
    ]


def test_sigterm_finishes_the_request_in_flight_then_stops(tmp_path: Path) -> None:
    landing, port = tmp_path / "landing", free_port()
    server = start_server(tmp_path, landing, port)
    try:
        body = json.dumps([GOOD]).encode()
        headers = {**AUTH, "Content-Type": "application/json", "Content-Length": str(len(body))}
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.putrequest("POST", "/events")
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders(body[:10])
        # Connections are accepted in order: once a later one is answered, the server is reading this body.
        request(("127.0.0.1", port), "GET", "/health")
        server.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # stopped listening: new connections are refused
            try:
                request(("127.0.0.1", port), "GET", "/health")
            except (ConnectionRefusedError, ConnectionResetError):
                break
            time.sleep(0.05)
        connection.send(body[10:])
        response = connection.getresponse()
        assert response.status == 202, response.read()
        assert server.wait(timeout=10) == 0
    finally:
        server.kill()
        server.communicate()
    assert landed_event_ids(landing) == ["g1"]
