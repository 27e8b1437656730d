"""What each load did, file by file: the load log and the rejected rows, kept in the `meta` dataset.

Every file a load looks at gets one `meta.load_log` row (rows read, loaded and rejected; status; error),
and every row it could not load gets a `meta.rejected_rows` row (file, line, reason, raw text). Nothing a
provider delivered disappears without a trace.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dlt

from ingestion.destination import warehouse_destination

META_DATASET = "meta"

# Statuses a file can end in.
LOADED = "loaded"  # every row loaded
PARTIAL = "partial"  # some rows rejected, the rest loaded
FAILED = "failed"  # nothing loaded from this file (unreadable, unknown layout)
DUPLICATE = "duplicate"  # identical to a file whose rows are already current; skipped
SKIPPED = "skipped"  # not loaded because another file of the same delivery failed
SUPERSEDED = "superseded"  # an older delivery of a period that a newer one replaces


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class FileOutcome:
    """One `meta.load_log` row."""

    source: str
    file: str
    delivery_id: str
    content_hash: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    status: str = LOADED
    error: str | None = None
    started_at: datetime = field(default_factory=now_utc)
    finished_at: datetime | None = None

    def finish(self, status: str | None = None, error: str | None = None) -> None:
        if status:
            self.status = status
        elif self.rows_rejected:
            self.status = PARTIAL
        self.error = error or self.error
        self.finished_at = now_utc()


@dataclass
class RejectedRow:
    """One `meta.rejected_rows` row."""

    source: str
    file: str
    delivery_id: str
    line_number: int | None
    reason: str
    raw_text: str | None
    rejected_at: datetime = field(default_factory=now_utc)


@dataclass
class Ledger:
    """Outcomes and rejects collected while a load runs, written to `meta` when it ends."""

    source: str
    load_id: str
    files: list[FileOutcome] = field(default_factory=list)
    rejects: list[RejectedRow] = field(default_factory=list)

    def open_file(self, file: str, delivery_id: str, content_hash: str | None = None) -> FileOutcome:
        outcome = FileOutcome(self.source, file, delivery_id, content_hash)
        self.files.append(outcome)
        return outcome

    def reject(self, outcome: FileOutcome, line_number: int | None, reason: str, raw_text: str | None) -> None:
        outcome.rows_rejected += 1
        self.rejects.append(RejectedRow(self.source, outcome.file, outcome.delivery_id, line_number, reason, raw_text))

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    @property
    def failed_files(self) -> list[FileOutcome]:
        return [f for f in self.files if f.status == FAILED]

    def write(self, warehouse: Path, pipelines_dir: Path) -> None:
        """Append this load's log and rejects to the `meta` dataset of the warehouse."""
        pipeline = dlt.pipeline(
            pipeline_name="finops_meta",
            destination=warehouse_destination(warehouse),
            dataset_name=META_DATASET,
            pipelines_dir=str(pipelines_dir),
        )
        log_rows = [{"load_id": self.load_id, **asdict(f)} for f in self.files]
        reject_rows = [{"load_id": self.load_id, **asdict(r)} for r in self.rejects]
        pipeline.run(
            [
                dlt.resource(log_rows, name="load_log", write_disposition="append", columns=_LOG_COLUMNS),
                dlt.resource(reject_rows, name="rejected_rows", write_disposition="append", columns=_REJECT_COLUMNS),
            ]
        )


# Declared so the tables exist with every column even when a load has nothing to report in one of them.
_LOG_COLUMNS = {
    "load_id": {"data_type": "text"},
    "source": {"data_type": "text"},
    "file": {"data_type": "text"},
    "delivery_id": {"data_type": "text"},
    "content_hash": {"data_type": "text", "nullable": True},
    "rows_read": {"data_type": "bigint"},
    "rows_loaded": {"data_type": "bigint"},
    "rows_rejected": {"data_type": "bigint"},
    "status": {"data_type": "text"},
    "error": {"data_type": "text", "nullable": True},
    "started_at": {"data_type": "timestamp"},
    "finished_at": {"data_type": "timestamp", "nullable": True},
}
_REJECT_COLUMNS = {
    "load_id": {"data_type": "text"},
    "source": {"data_type": "text"},
    "file": {"data_type": "text"},
    "delivery_id": {"data_type": "text"},
    "line_number": {"data_type": "bigint", "nullable": True},
    "reason": {"data_type": "text"},
    "raw_text": {"data_type": "text", "nullable": True},
    "rejected_at": {"data_type": "timestamp"},
}
