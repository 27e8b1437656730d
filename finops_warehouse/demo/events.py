"""Business events (the unit-economics denominators) as daily JSON Lines folders.

    OUT/events/business_events/date=YYYY-MM-DD/events-000.jsonl

A small share of each day's events arrives late and is written into the next day's folder.
transaction and active_user events carry a user id and e-mail (personal data, fictional).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from finops_warehouse.demo.company import COMPANY
from finops_warehouse.demo.encode import (
    decimal_strings,
    fixed_width_strings,
    join_lines,
    mix64,
    take_strings,
    uuid_strings,
)
from finops_warehouse.demo.output import Progress, ProviderOutput, Ticker
from finops_warehouse.demo.streams import GROWTH_PER_DAY
from finops_warehouse.demo.timeline import Window

PROVIDER_CODE = 5
EVENT_TYPES = ("transaction", "active_user", "api_call")
TRANSACTION, ACTIVE_USER, API_CALL = range(3)
# Product -> (share of events, share of each event type).
PRODUCT_MIX = {
    "storefront": (0.40, (0.35, 0.50, 0.15)),
    "payments-api": (0.25, (0.30, 0.0, 0.70)),
    "search-api": (0.20, (0.0, 0.0, 1.0)),
    "analytics-suite": (0.15, (0.0, 0.70, 0.30)),
}
WEEKDAY_FACTOR = np.array([1.08, 1.1, 1.1, 1.08, 1.02, 0.82, 0.8])
LATE_SHARE = 0.005
USERS = 40_000
_FIRST = ("alex", "sam", "maria", "li", "noah", "emma", "omar", "sofia", "jonas", "aisha", "lucas", "mia")
_LAST = ("smith", "garcia", "muller", "rossi", "kim", "novak", "silva", "jensen", "ahmed", "dubois", "berg")
_DIGITS = np.frombuffer(b"0123456789", dtype=np.uint8)


@dataclass(frozen=True)
class _Users:
    ids: pa.Array
    emails: pa.Array


def _users() -> _Users:
    users = range(USERS)
    return _Users(
        pa.array([f"u-{u:06d}" for u in users]),
        pa.array([f"{_FIRST[u % len(_FIRST)]}.{_LAST[u // 7 % len(_LAST)]}{u}@example.com" for u in users]),
    )


def write_events(out: Path, window: Window, seed: int, per_day: int, progress: Progress | None) -> ProviderOutput:
    """Write one JSONL file per day folder.

    Args:
        out: OUT directory.
        window: Run window.
        seed: Run seed.
        per_day: Average events per weekday at the start of the window.
        progress: Optional progress callback.

    Returns:
        Files and row counts (no invoice totals).
    """
    result = ProviderOutput()
    root = out / "events" / "business_events"
    users = _users()
    ticker = Ticker(progress, "events", window.days)
    carried, carried_rows = b"", 0
    for day in range(window.days):
        events = _day_events(window, seed, per_day, day)
        late = events.late & (day < window.days - 1)  # the last folder has no next day to spill into
        on_time = _render(window, seed, day, events, ~late, users)
        path = root / f"date={window.dates[day].isoformat()}" / "events-000.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(carried + on_time)
        result.files.append(path)
        result.count("events", int((~late).sum()) + carried_rows)
        result.count("late_arrivals", carried_rows)
        carried, carried_rows = _render(window, seed, day, events, late, users), int(late.sum())
        ticker.tick()
    return result


@dataclass(frozen=True)
class _Events:
    second: np.ndarray
    product: np.ndarray
    kind: np.ndarray
    quantity: np.ndarray
    cents: np.ndarray
    user: np.ndarray
    late: np.ndarray


def _day_events(window: Window, seed: int, per_day: int, day: int) -> _Events:
    rng = np.random.default_rng([seed, PROVIDER_CODE, int(window.ordinal[day])])
    expected = per_day * WEEKDAY_FACTOR[window.weekday[day]] * (1 + GROWTH_PER_DAY) ** day
    n = int(rng.poisson(expected))
    names = list(PRODUCT_MIX)
    product = rng.choice(len(names), size=n, p=[PRODUCT_MIX[p][0] for p in names])
    kind = np.empty(n, dtype=np.int64)
    for p_i, name in enumerate(names):
        mask = product == p_i
        kind[mask] = rng.choice(3, size=int(mask.sum()), p=PRODUCT_MIX[name][1])
    # Daytime-weighted arrival times; events are written in time order.
    second = (rng.beta(2.2, 2.0, n) * 86400).astype(np.int64)
    order = np.argsort(second, kind="stable")
    quantity = np.where(
        kind == API_CALL, rng.integers(20, 5000, n), np.where(kind == TRANSACTION, rng.integers(1, 6, n), 1)
    )
    return _Events(
        second=second[order],
        product=product[order],
        kind=kind[order],
        quantity=quantity[order],
        cents=(rng.integers(799, 24_999, n) * quantity)[order],
        user=rng.integers(0, USERS, n)[order],
        late=(rng.random(n) < LATE_SHARE)[order],
    )


def _render(window: Window, seed: int, day: int, e: _Events, keep: np.ndarray, users: _Users) -> bytes:
    idx = np.flatnonzero(keep)
    if len(idx) == 0:
        return b""
    names = list(PRODUCT_MIX)
    units = [next(p.business_unit for p in COMPANY.products if p.key == name) for name in names]
    ordinal = int(window.ordinal[day])
    ids = uuid_strings(mix64(seed, ordinal, idx, 1), mix64(seed, ordinal, idx, 2))
    kind, product = e.kind[idx], e.product[idx]
    is_tx = kind == TRANSACTION
    has_user = kind != API_CALL
    user = np.where(has_user, e.user[idx], -1)
    parts: list[pa.Array | str] = [
        '{"event_id":"', ids, '","event_type":"', take_strings(EVENT_TYPES, kind),
        f'","occurred_at":"{window.dates[day].isoformat()}T', _clock(e.second[idx]), 'Z","product":"',
        take_strings(names, product), '","business_unit":"', take_strings(units, product), '","quantity":',
        pa.array(e.quantity[idx]).cast(pa.string()), ',"revenue":',
        _quoted(decimal_strings(e.cents[idx], 2, valid=is_tx)), ',"currency":',
        _quoted(take_strings(["USD"], np.where(is_tx, 0, -1))), ',"user_id":', _quoted(take_strings(users.ids, user)),
        ',"user_email":', _quoted(take_strings(users.emails, user)), "}",
    ]  # fmt: skip
    return join_lines(parts)


def _clock(seconds: np.ndarray) -> pa.Array:
    """HH:MM:SS without a Python loop."""
    hours, rest = np.divmod(seconds, 3600)
    minutes, secs = np.divmod(rest, 60)
    chars = np.full((len(seconds), 8), ord(":"), dtype=np.uint8)
    for col, value in ((0, hours), (3, minutes), (6, secs)):
        chars[:, col] = _DIGITS[value // 10]
        chars[:, col + 1] = _DIGITS[value % 10]
    return fixed_width_strings(chars)


def _quoted(values: pa.Array) -> pa.Array:
    """JSON string literal, or null (values here never need escaping)."""
    return pc.if_else(pc.is_null(values), "null", pc.binary_join_element_wise('"', values, '"', ""))
