"""Business events: files and a paginated HTTP API, type checks, and no personal data in clear anywhere."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import duckdb
import pytest
from conftest import query

from ingestion.pipeline import run_load

CLEAR_VALUES = ("alice@example.com", "user-0001", "bob@example.org", "user-0002")


def event(event_id: str, occurred_at: str, event_type: str = "transaction", **fields: object) -> dict:
    return {
        "event_id": event_id,
        "event_type": event_type,
        "occurred_at": occurred_at,
        "product": "storefront",
        "business_unit": "commerce",
        "quantity": 1,
        "revenue": "19.99" if event_type == "transaction" else None,
        "currency": "USD",
        "user_id": "user-0001",
        "user_email": "alice@example.com",
        **fields,
    }


class EventsApi:
    """A paginated events API on localhost: two events per page, `next` links, `since` filter, bearer token."""

    def __init__(self, events: list[dict], token: str) -> None:
        self.events, self.token, self.requests = events, token, []

    def handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                query_args = {k: v[0] for k, v in parse_qs(url.query).items()}
                api.requests.append(query_args)
                if self.headers.get("Authorization") != f"Bearer {api.token}":
                    self.send_response(401)
                    self.end_headers()
                    return
                since = query_args.get("since", "")
                selected = sorted((e for e in api.events if e["occurred_at"] >= since), key=lambda e: e["event_id"])
                page = int(query_args.get("page", "0"))
                chunk = selected[page * 2 : page * 2 + 2]
                more = len(selected) > (page + 1) * 2
                body = {"events": chunk, "next": f"/events?since={since}&page={page + 1}" if more else None}
                payload = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                return

        return Handler


@pytest.fixture
def events_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, EventsApi]]:
    api = EventsApi(
        [event(f"e{i}", f"2026-10-0{i}T10:00:00Z") for i in range(1, 6)]
        + [event("bad", "2026-10-03T11:00:00Z", event_type="refund_request")],
        token="s3cret",
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), api.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("FINOPS_EVENTS_API_TOKEN", "s3cret")
    yield f"http://127.0.0.1:{server.server_address[1]}/events", api
    server.shutdown()


def test_api_events_are_paged_loaded_and_then_fetched_incrementally(
    warehouse: Path, events_api: tuple[str, EventsApi]
) -> None:
    url, api = events_api
    report = run_load("events", url, warehouse)
    assert query(warehouse, "select count(*), count(distinct event_id) from raw_events.business_events") == [(5, 5)]
    assert report.files[0].rows_read == 6 and report.files[0].rows_rejected == 1
    assert [r.get("page") for r in api.requests] == [None, "1", "2"]

    api.events.append(event("e6", "2026-10-06T10:00:00Z"))
    api.requests.clear()
    run_load("events", url, warehouse)
    # The second run asks only for events since the cursor minus the late-arrival window (3 days).
    assert api.requests[0]["since"] == "2026-10-02T10:00:00Z"
    assert query(warehouse, "select count(*), max(event_id) from raw_events.business_events") == [(6, "e6")]


def test_an_unauthorised_api_is_a_clear_error(warehouse: Path, events_api: tuple[str, EventsApi], monkeypatch) -> None:
    url, _ = events_api
    monkeypatch.setenv("FINOPS_EVENTS_API_TOKEN", "wrong")
    with pytest.raises(Exception, match="the events API answered 401"):
        run_load("events", url, warehouse)


def test_unknown_event_types_are_rejected_unless_declared(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "events"
    folder.mkdir()
    rows = [
        event("a", "2026-10-01T10:00:00Z"),
        event("b", "2026-10-01T11:00:00Z", event_type="search"),
        event("c", "2026-10-01T12:00:00Z", quantity="many"),
    ]
    (folder / "events.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    report = run_load("events", str(folder), warehouse)
    assert [(f.rows_read, f.rows_loaded, f.rows_rejected) for f in report.files] == [(3, 1, 2)]
    assert query(warehouse, "select line_number, reason from meta.rejected_rows order by 1") == [
        (2, "unknown event_type: search (declare it in FINOPS_EVENT_TYPES)"),
        (3, "quantity is not a whole number: many"),
    ]
    monkeypatch.setenv("FINOPS_EVENT_TYPES", "search, signup")
    (folder / "events.jsonl").write_text("\n".join(json.dumps(r) for r in rows[:2]) + "\n")
    run_load("events", str(folder), warehouse)
    assert query(warehouse, "select count(*) from raw_events.business_events") == [(2,)]


def test_no_clear_personal_value_reaches_any_warehouse_table(
    warehouse: Path, tmp_path: Path, events_api: tuple[str, EventsApi]
) -> None:
    folder = tmp_path / "events"
    folder.mkdir()
    rows = [
        event("f1", "2026-10-01T10:00:00Z", user_id="user-0002", user_email="bob@example.org"),
        event("f2", "2026-10-01T10:00:00Z", event_type="bogus"),  # rejected rows keep no clear values either
    ]
    (folder / "events.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    run_load("events", str(folder), warehouse)
    run_load("events", events_api[0], warehouse)

    with duckdb.connect(str(warehouse), read_only=True) as con:
        text_columns = con.sql(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' and table_schema not in ('information_schema', 'pg_catalog')"
        ).fetchall()
        assert len(text_columns) > 20
        for schema, table, column in text_columns:
            for value in CLEAR_VALUES:
                hits = con.execute(
                    f'select count(*) from "{schema}"."{table}" where contains("{column}", ?)', [value]
                ).fetchall()[0][0]
                assert hits == 0, f"{value} in clear in {schema}.{table}.{column}"
    hashed = query(warehouse, "select distinct left(user_email, 3) from raw_events.business_events")
    assert hashed == [("kh:",)]


def test_files_that_disagree_on_a_fields_type_load_together(warehouse: Path, tmp_path: Path) -> None:
    """Each file is read with its own inferred types; a field that is a number in one file and a date or an
    object in another must not fail the load of both (as the HTTP endpoint lands one file per batch)."""
    folder = tmp_path / "events"
    folder.mkdir()
    batches = {
        "a.jsonl": [event("a", "2026-10-01T10:00:00Z", order_ref=42, context={"page": "home"})],
        "b.jsonl": [event("b", "2026-10-01T11:00:00Z", order_ref="2026-10-01", context="checkout")],
    }
    for name, rows in batches.items():
        (folder / name).write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    report = run_load("events", str(folder), warehouse)
    assert sum(f.rows_loaded for f in report.files) == 2
    assert query(warehouse, "select event_id, order_ref from raw_events.business_events order by 1") == [
        ("a", "42"),
        ("b", "2026-10-01"),
    ]
