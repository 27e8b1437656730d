"""Business events from an HTTP API: paginated, incremental on `occurred_at`, pseudonymised in flight.

The API answers `GET <url>?since=<cursor>` with `{"events": [...], "next": <url or null>}` (also accepted:
`data` for the list, `next_page_token` for a token sent back as `page_token`). The cursor is the latest
`occurred_at` loaded, kept in dlt's resource state, so each run fetches only what is new; because events
arrive late, the request asks from `cursor - late window` and the upsert on event_id absorbs the overlap.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import dlt
import pyarrow as pa
from dlt.sources.helpers import requests

from ingestion.errors import LoadError
from ingestion.events.helpers import PERSONAL_FIELDS, REQUIRED, event_types
from ingestion.ledger import Ledger

TOKEN_ENV = "FINOPS_EVENTS_API_TOKEN"
LATE_WINDOW_ENV = "FINOPS_EVENTS_LATE_DAYS"
DEFAULT_LATE_DAYS = 3


def is_http(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def api_events(url: str, loaded_at: str, key: str, ledger: Ledger) -> Iterator[pa.Table]:
    """Every page of events newer than the stored cursor, as rows ready for the raw table."""
    state = dlt.current.resource_state().setdefault("cursors", {})
    outcome = ledger.open_file(url, f"api:{loaded_at}")
    params = _since(state.get(url))
    page_url: str | None = url
    latest = state.get(url)
    while page_url:
        body = _get(page_url, params)
        events = body.get("events", body.get("data", [])) if isinstance(body, dict) else body
        rows = []
        for event in events:
            outcome.rows_read += 1
            reason = _reject_reason(event)
            if reason:
                ledger.reject(outcome, outcome.rows_read, reason, _pseudonymised_text(event, key))
                continue
            rows.append(_row(event, key, url, outcome.rows_read, loaded_at))
            latest = max(latest or "", str(event["occurred_at"]))
        outcome.rows_loaded += len(rows)
        if rows:
            # Arrow, as the file loader yields: the same table takes both, with the same columns and types.
            yield pa.Table.from_pylist(rows)
        page_url, params = _next_page(page_url, body, params)
    state[url] = latest
    outcome.finish()


def _since(cursor: str | None) -> dict[str, str]:
    if not cursor:
        return {}
    days = int(os.environ.get(LATE_WINDOW_ENV, DEFAULT_LATE_DAYS))
    start = datetime.fromisoformat(cursor.replace("Z", "+00:00")) - timedelta(days=days)
    return {"since": start.strftime("%Y-%m-%dT%H:%M:%SZ")}


def _get(url: str, params: dict[str, str]) -> Any:
    token = os.environ.get(TOKEN_ENV)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = requests.get(url, params=params or None, headers=headers, timeout=30)
        response.raise_for_status()
        return response.json()
    except requests.HTTPError as exc:
        raise LoadError(f"{url}: the events API answered {exc.response.status_code}") from exc
    except ValueError as exc:
        raise LoadError(f"{url}: the events API did not answer with JSON") from exc


def _next_page(current: str, body: Any, params: dict[str, str]) -> tuple[str | None, dict[str, str]]:
    if not isinstance(body, dict):
        return None, {}
    if body.get("next"):
        return urljoin(current, body["next"]), {}
    if body.get("next_page_token"):
        return current, {**params, "page_token": str(body["next_page_token"])}
    return None, {}


def _reject_reason(event: dict[str, Any]) -> str | None:
    missing = [field for field in REQUIRED if not event.get(field)]
    if missing:
        return f"missing fields: {', '.join(missing)}"
    if str(event["event_type"]).lower() not in event_types():
        return f"unknown event_type: {event['event_type']}"
    try:
        datetime.fromisoformat(str(event["occurred_at"]).replace("Z", "+00:00"))
    except ValueError:
        return f"occurred_at is not a timestamp: {event['occurred_at']}"
    return None


def _keyed_hash(key: str, value: Any) -> str:
    # The same keyed hash the file loader computes in SQL, so one person has one pseudonym whatever the source.
    return "kh:" + hashlib.sha256(f"{key}|{value}".encode()).hexdigest()


def _pseudonymised(event: dict[str, Any], key: str) -> dict[str, Any]:
    return {
        name: _keyed_hash(key, value) if name in PERSONAL_FIELDS and value is not None else value
        for name, value in event.items()
    }


def _pseudonymised_text(event: dict[str, Any], key: str) -> str:
    import json

    return json.dumps(_pseudonymised(event, key), default=str)


def _row(event: dict[str, Any], key: str, url: str, line: int, loaded_at: str) -> dict[str, Any]:
    row = {name: None if value is None else str(value) for name, value in _pseudonymised(event, key).items()}
    row["event_type"] = str(event["event_type"]).lower()
    return {
        **row,
        "_line_number": line,
        "_source_file": url,
        "_delivery_id": f"api:{loaded_at}",
        "_loaded_at": datetime.fromisoformat(loaded_at),
    }
