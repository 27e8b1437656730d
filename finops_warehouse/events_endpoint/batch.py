"""Parse one pushed batch and check its shape; the loader's own value checks run later, on the file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from ingestion.events.helpers import EVENT_TYPES_ENV, REQUIRED, event_types

# Fields the loader's checks name in their reasons; used to say which field a loader reason is about.
CHECKED_FIELDS = (*REQUIRED, "quantity", "revenue")


@dataclass(frozen=True)
class Problem:
    """What is wrong with one event (or, with no index, with the batch)."""

    index: int | None
    field: str | None
    problem: str


class BatchRejected(Exception):
    """A batch refused as a whole: the HTTP status and a JSON body naming every problem."""

    def __init__(self, status: int, error: str, problems: list[Problem] | None = None) -> None:
        super().__init__(error)
        self.status, self.error, self.problems = status, error, problems or []

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error}
        if self.problems:
            body["problems"] = [asdict(p) for p in self.problems]
        return body


@dataclass(frozen=True)
class Batch:
    events: list[Any]
    batch_id: str | None


def parse_batch(body: bytes, max_events: int) -> Batch:
    """The events of a request body: `{"events": [...]}` (optionally with `batch_id`) or `[...]`."""
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        raise BatchRejected(400, f"body is not UTF-8: invalid byte at position {exc.start}") from exc
    except json.JSONDecodeError as exc:
        raise BatchRejected(
            400, f"invalid JSON at line {exc.lineno} column {exc.colno} (char {exc.pos}): {exc.msg}"
        ) from exc
    batch = _batch_of(data)
    if not batch.events:
        raise BatchRejected(400, "empty batch: no events")
    if len(batch.events) > max_events:
        raise BatchRejected(413, f"too many events: {len(batch.events)} in one batch, at most {max_events}")
    return batch


def shape_problems(events: list[Any]) -> list[Problem]:
    """Every problem the loader's SQL checks would not report clearly, or would let through into a failure."""
    return [problem for index, event in enumerate(events) for problem in _event_problems(index, event)]


def invalid(problems: list[Problem], total: int) -> BatchRejected:
    bad = len({p.index for p in problems if p.index is not None})
    if not bad:
        return BatchRejected(422, f"the batch is invalid; nothing was accepted: {problems[0].problem}", problems)
    ordered = sorted(problems, key=lambda p: (p.index if p.index is not None else -1, p.field or ""))
    return BatchRejected(422, f"{bad} of {total} events are invalid; nothing was accepted", ordered)


def field_named_in(reason: str) -> str | None:
    """The field a loader reject reason is about (`occurred_at is not a timestamp: x` -> occurred_at)."""
    first_word = reason.removeprefix("unknown ").split(" ", 1)[0].rstrip(":")
    return first_word if first_word in CHECKED_FIELDS else None


def _no_constant(name: str) -> None:
    # Python's json accepts NaN and Infinity; the loader's JSON reader does not, so neither do we.
    raise json.JSONDecodeError(f"{name} is not valid JSON", name, 0)


def _batch_of(data: Any) -> Batch:
    if isinstance(data, list):
        return Batch(data, None)
    if isinstance(data, dict) and isinstance(data.get("events"), list):
        batch_id = data.get("batch_id")
        if batch_id is not None and (not isinstance(batch_id, str) or not batch_id.strip()):
            raise BatchRejected(400, "batch_id must be a non-empty string")
        return Batch(data["events"], batch_id)
    raise BatchRejected(400, 'expected {"events": [...]} or a JSON array of events')


def _event_problems(index: int, event: Any) -> list[Problem]:
    if not isinstance(event, dict):
        return [Problem(index, None, f"an event must be a JSON object, not {_json_kind(event)}")]
    problems = [Problem(index, name, problem) for name in REQUIRED if (problem := _required_problem(event, name))]
    problems += [
        # The loader adds _line_number, _source_file and the like to every row, and drops fields named so.
        Problem(index, name, "field names starting with _ are reserved for the loader")
        for name in event
        if name.startswith("_")
    ]
    event_type = event.get("event_type")
    if isinstance(event_type, str) and event_type.strip() and event_type.lower() not in event_types():
        known = ", ".join(event_types())
        problem = f"unknown event type {event_type!r} (known: {known}; declare more in {EVENT_TYPES_ENV})"
        problems.append(Problem(index, "event_type", problem))
    return problems


def _required_problem(event: dict[str, Any], name: str) -> str | None:
    value = event.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return "missing"
    # An integer id is fine (the loader keeps it as text); a type or a time must be text.
    allowed: tuple[type, ...] = (str, int) if name == "event_id" else (str,)
    if isinstance(value, bool) or not isinstance(value, allowed):
        return f"must be {'a string or an integer' if name == 'event_id' else 'a string'}, not {_json_kind(value)}"
    return None


def _json_kind(value: Any) -> str:
    kinds = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return kinds.get(type(value), "a number")
