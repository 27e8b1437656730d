"""The landing folder: each accepted batch becomes one new JSON lines file, on disk before the answer.

A batch is first written to a hidden temp file in the landing folder (`.incoming-*.tmp`, which matches none
of the loader's patterns, so a half-written batch is never loaded), checked there by the loader's own
checks, then fsynced, renamed to its final name in one atomic step, and the folder fsynced: once the client
has its 2xx, the file survives a crash or a power loss. Names sort by arrival: `<UTC time>-<tag>.jsonl`,
where the tag is a hash of the Idempotency-Key (`k...`) or a random id (`u...`). Keeping the key's hash in
the name is what makes a retry after a restart find the batch it already wrote.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from finops_warehouse.events_endpoint.batch import BatchRejected, Problem, field_named_in, invalid, shape_problems
from ingestion.errors import LoadError
from ingestion.events.helpers import rejected_events

TEMP_PREFIX = ".incoming-"
TEMP_SUFFIX = ".tmp"
# A temp file older than this belongs to no live request (requests time out long before): a crash left it.
STALE_TEMP_SECONDS = 15 * 60
# Requests with the same key are serialised; a fixed set of locks keeps memory bounded whatever the keys.
KEY_LOCKS = 64


@dataclass(frozen=True)
class Receipt:
    """What a client is told about an accepted batch; a retry with the same key gets the same one."""

    accepted: int
    file: str
    replayed: bool = False

    def body(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "file": self.file}


class Landing:
    """Writes accepted batches into one landing folder; one server per folder."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self._locks = [threading.Lock() for _ in range(KEY_LOCKS)]
        self._remove_stale_temp_files()

    def accept(self, events: list[Any], key: str | None) -> Receipt:
        """Check the batch and write it durably, or raise BatchRejected; a known key returns its receipt."""
        if key is None:
            return self._check_and_write(events, f"u{uuid.uuid4().hex}")
        tag = "k" + hashlib.sha256(key.encode()).hexdigest()[:32]
        with self._locks[int(tag[1:9], 16) % KEY_LOCKS]:
            earlier = self._earlier(tag, _jsonl(events))
            return earlier or self._check_and_write(events, tag)

    def _earlier(self, tag: str, content: bytes) -> Receipt | None:
        found = sorted(self.folder.glob(f"*-{tag}.jsonl"))
        if not found:
            return None
        written = found[0].read_bytes()
        if written != content:
            raise BatchRejected(409, f"this Idempotency-Key was used for a different batch ({found[0].name})")
        return Receipt(written.count(b"\n"), found[0].name, replayed=True)

    def _check_and_write(self, events: list[Any], tag: str) -> Receipt:
        problems = shape_problems(events)
        bad = {p.index for p in problems}
        # The loader's own checks (timestamps, numbers) run on the file it would read, so an accepted event
        # always loads; events already known to be bad are left out, so that every bad event is named at once.
        kept = [index for index in range(len(events)) if index not in bad]
        temp = self.folder / f"{TEMP_PREFIX}{uuid.uuid4().hex}{TEMP_SUFFIX}"
        try:
            with open(temp, "xb") as handle:
                handle.write(_jsonl([events[index] for index in kept]))
                handle.flush()
                problems += _loader_problems(temp, kept)
                if problems:
                    raise invalid(problems, len(events))
                os.fsync(handle.fileno())
            name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{tag}.jsonl"
            os.rename(temp, self.folder / name)
        finally:
            temp.unlink(missing_ok=True)
        _fsync_folder(self.folder)
        return Receipt(len(events), name)

    def _remove_stale_temp_files(self) -> None:
        cutoff = time.time() - STALE_TEMP_SECONDS
        for temp in self.folder.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
            if temp.stat().st_mtime < cutoff:
                temp.unlink(missing_ok=True)


def _loader_problems(path: Path, indices: list[int]) -> list[Problem]:
    """What the loader would reject in `path`, by index in the batch (line n is batch event indices[n-1])."""
    if not indices:
        return []
    try:
        rejected = rejected_events(path)
    except LoadError as exc:
        # The file as a whole does not read (e.g. two fields that become one column name); say why.
        return [Problem(None, None, f"the events loader cannot read this batch: {str(exc).split(': ', 1)[-1]}")]
    return [Problem(indices[line - 1], field_named_in(reason), reason) for line, reason in rejected]


def _jsonl(events: list[Any]) -> bytes:
    # Compact and in the order sent: the same batch always gives the same bytes, so a retry can be compared.
    return "".join(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n" for event in events).encode()


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable: without this a crash can forget the new directory entry."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
