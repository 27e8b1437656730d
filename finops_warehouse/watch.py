"""`finops watch`: poll a landing folder or bucket prefix and bring the warehouse up to date after every delivery.

The landing has the demo's layout: `aws/` (legacy CUR and CUR 2.0), `azure/`, `gcp/` and `events/`; a missing
subfolder is an empty one. Each poll lists it and compares every file's signature (size and modification
time, the object's LastModified in a bucket) with the signatures of the files already processed. The new or
changed files of one source are one delivery, and each delivery runs one cycle: load the source's folder
(idempotent: files whose content is current are skipped), `dbt build` of what is downstream of that source
(incremental models rebuild only the affected billing periods and anomaly series), then alerts for new
anomalies when a webhook is configured. Deliveries run one at a time, by source.

A delivery is ready when it is complete: every changed file has the same signature in two listings one
interval apart (a file still being written changes between them), and every manifest among the source's
files (legacy CUR, CUR 2.0, Azure export runs) names only files that are there. Files whose name starts
with a dot are never looked at: writers that write to a temporary name and rename are never seen half-way.

Crash safety: the processed signatures live in a JSON file beside the warehouse, written atomically after a
cycle ends. A cycle killed half-way is not marked done, so the next run does it again; loads are idempotent
and the incremental models compare load times per billing period, so redoing it gives the same warehouse
as doing it once. Each cycle is a row in `meta.pipeline_runs`, written when it starts and when it ends; a
cycle found unfinished at start-up gets a final `interrupted` row. A lock file keeps a second watcher off
the same warehouse.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from types import FrameType
from typing import Any

import dlt

from finops_warehouse.dbt import run_dbt
from ingestion.destination import warehouse_destination
from ingestion.errors import LoadError
from ingestion.files import ExportFile, is_remote, list_files, local_copies, read_text
from ingestion.ledger import META_DATASET
from ingestion.pipeline import pipelines_dir, run_load

# Loader -> landing subfolder, in processing order.
LANDING_LAYOUT = {"aws-cur": "aws", "azure": "azure", "gcp": "gcp", "events": "events"}
# Loader -> the dbt source its raw tables are.
DBT_SOURCES = {"aws-cur": "aws_cur", "azure": "azure_cost", "gcp": "gcp_billing", "events": "events"}
# What a cycle builds: every model and data test downstream of the loaded source, and the run log's models;
# unit tests have fixed inputs and belong to CI.
CYCLE_BUILD = ["build", "--exclude-resource-type", "unit_test"]
ANOMALY_MART = "model.finops_warehouse.cost_anomalies"
STATE_VERSION = 1
# A failed cycle (a bad file, a failing data test, the warehouse locked by another process) is tried again
# after this long, or as soon as its files change.
FAILED_RETRY_SECONDS = 300.0

SUCCEEDED, FAILED, INTERRUPTED, RUNNING = "succeeded", "failed", "interrupted", "running"


class WatchError(Exception):
    """A problem the user must fix before watching (another watcher, an unreadable state file)."""


class Stopped(Exception):
    """Ctrl-C or SIGTERM asked the watcher to stop between two steps of a cycle."""


@dataclass(frozen=True)
class Signature:
    """One landed file as a listing sees it; a different size or time means a new version of the file."""

    size: int
    modified: float  # seconds since the epoch, UTC


@dataclass(frozen=True)
class Landed:
    """One file in the landing: its source, where it is, and its signature."""

    source: str
    file: ExportFile
    signature: Signature

    @property
    def uri(self) -> str:
        return self.file.uri

    @property
    def key(self) -> str:
        """The path inside the landing (`aws/cur/...`): what the state remembers, wherever the landing is."""
        return f"{LANDING_LAYOUT[self.source]}/{self.file.relative_path}"


@dataclass
class Cycle:
    """One delivery's trip through load, build and alerts: one run in `meta.pipeline_runs`."""

    run_id: str
    source: str
    files: list[str]
    landed_at: datetime
    started_at: datetime
    finished_at: datetime | None = None
    status: str = RUNNING
    error: str | None = None
    rows_loaded: int = 0
    rows_rejected: int = 0
    models: list[str] = field(default_factory=list)
    detect_seconds: float | None = None
    load_seconds: float | None = None
    build_seconds: float | None = None
    alerts_seconds: float | None = None
    alerts_sent: int = 0

    def row(self) -> dict[str, Any]:
        """The `meta.pipeline_runs` row; timestamps naive UTC like the rest of `meta`."""
        latency = (self.finished_at - self.landed_at).total_seconds() if self.finished_at else None
        return {
            "run_id": self.run_id,
            "source": self.source,
            "files": json.dumps(self.files),
            "file_count": len(self.files),
            "landed_at": _naive(self.landed_at),
            "started_at": _naive(self.started_at),
            "finished_at": _naive(self.finished_at) if self.finished_at else None,
            "status": self.status,
            "error": self.error,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
            "models_rebuilt": len(self.models),
            "models": ",".join(self.models),
            "detect_seconds": self.detect_seconds,
            "load_seconds": self.load_seconds,
            "build_seconds": self.build_seconds,
            "alerts_seconds": self.alerts_seconds,
            "alerts_sent": self.alerts_sent,
            "latency_seconds": round(latency, 3) if latency is not None else None,
            "recorded_at": _naive(datetime.now(UTC)),
        }

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "landed_at": self.landed_at.isoformat(), "started_at": self.started_at.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Cycle:
        data = {**data, "finished_at": None}
        data["landed_at"] = datetime.fromisoformat(data["landed_at"])
        data["started_at"] = datetime.fromisoformat(data["started_at"])
        return cls(**data)


# Declared so every column exists with its type from the first row on, even when it is null there.
RUN_COLUMNS: dict[str, dict[str, Any]] = {
    "run_id": {"data_type": "text"},
    "source": {"data_type": "text"},
    "files": {"data_type": "text"},
    "file_count": {"data_type": "bigint"},
    "landed_at": {"data_type": "timestamp"},
    "started_at": {"data_type": "timestamp"},
    "finished_at": {"data_type": "timestamp", "nullable": True},
    "status": {"data_type": "text"},
    "error": {"data_type": "text", "nullable": True},
    "rows_loaded": {"data_type": "bigint"},
    "rows_rejected": {"data_type": "bigint"},
    "models_rebuilt": {"data_type": "bigint"},
    "models": {"data_type": "text", "nullable": True},
    "detect_seconds": {"data_type": "double", "nullable": True},
    "load_seconds": {"data_type": "double", "nullable": True},
    "build_seconds": {"data_type": "double", "nullable": True},
    "alerts_seconds": {"data_type": "double", "nullable": True},
    "alerts_sent": {"data_type": "bigint"},
    "latency_seconds": {"data_type": "double", "nullable": True},
    "recorded_at": {"data_type": "timestamp"},
}


# ---------------------------------------------------------------------------------------------------
# Listing the landing and deciding what is ready
# ---------------------------------------------------------------------------------------------------


def source_location(landing: str, source: str) -> str:
    return f"{landing.rstrip('/')}/{LANDING_LAYOUT[source]}"


def list_landing(landing: str) -> dict[str, Landed]:
    """Every file under the landing's source folders, by key; a missing folder contributes nothing."""
    found: dict[str, Landed] = {}
    for source in LANDING_LAYOUT:
        location = source_location(landing, source)
        if not is_remote(location) and not Path(location).is_dir():
            continue
        try:
            files = list_files(location, ("*",))
        except LoadError:
            continue
        for f in files:
            if any(part.startswith(".") for part in PurePosixPath(f.relative_path).parts):
                continue
            landed = Landed(source, f, _signature(f))
            found[landed.key] = landed
    return found


def _signature(f: ExportFile) -> Signature:
    if f.remote_item is not None:
        return Signature(int(f.remote_item["size_in_bytes"]), f.remote_item["modification_date"].timestamp())
    stat = os.stat(Path(f.root) / f.relative_path)
    return Signature(stat.st_size, stat.st_mtime)


def changed_files(listing: dict[str, Landed], done: dict[str, Signature]) -> dict[str, list[Landed]]:
    """Per source, in processing order, the files that are new or differ from the version processed."""
    by_source: dict[str, list[Landed]] = {}
    for key, landed in sorted(listing.items()):
        if done.get(key) != landed.signature:
            by_source.setdefault(landed.source, []).append(landed)
    return {source: by_source[source] for source in LANDING_LAYOUT if source in by_source}


def unsettled(files: list[Landed], previous: dict[str, Landed] | None) -> list[str]:
    """Files whose signature changed since the previous listing (or that it did not have): still being written."""
    if previous is None:
        return [f.key for f in files]
    return [f.key for f in files if f.key not in previous or previous[f.key].signature != f.signature]


def missing_from_manifests(files: list[Landed], listing: dict[str, Landed]) -> list[str]:
    """Files that a manifest among `files` names but the listing does not have yet: the delivery is partial.

    Paths resolve as the loaders resolve them: a legacy CUR manifest's reportKeys sit in
    `<manifest folder>/<assemblyId>/`, a CUR 2.0 manifest's dataFiles in the `data/` twin of its `metadata/`
    folder, an Azure export run's blobs beside its manifest.json.
    """
    present = {(landed.source, landed.file.relative_path) for landed in listing.values()}
    manifests = [f for f in files if f.file.name.lower().endswith("manifest.json")]
    if not manifests:
        return []
    missing = []
    with local_copies([m.file for m in manifests]) as local:
        for manifest in manifests:
            body = json.loads(read_text(manifest.file, local))
            for relative in manifest_named_files(manifest.file.relative_path, body):
                if (manifest.source, relative) not in present:
                    missing.append(f"{manifest.file.root.rstrip('/')}/{relative}")
    return missing


def manifest_named_files(manifest_path: str, body: dict[str, Any]) -> list[str]:
    """The data files a manifest names, relative to the same root as the manifest."""
    base = PurePosixPath(manifest_path).parent
    if "assemblyId" in body:
        return [str(base / body["assemblyId"] / PurePosixPath(k).name) for k in body.get("reportKeys", [])]
    if "executionId" in body:
        data_base = PurePosixPath(str(base).replace("metadata", "data", 1))
        return [str(data_base / PurePosixPath(k).name) for k in body.get("dataFiles", [])]
    return [str(base / PurePosixPath(b["blobName"]).name) for b in body.get("blobs", []) if "blobName" in b]


# ---------------------------------------------------------------------------------------------------
# State beside the warehouse: what was processed, the cycle in progress, and the lock
# ---------------------------------------------------------------------------------------------------


@dataclass
class WatchState:
    """Processed file signatures by key and the cycle in progress, kept in `<warehouse folder>/.watch/<name>.json`."""

    path: Path
    done: dict[str, Signature] = field(default_factory=dict)
    in_progress: Cycle | None = None
    built: bool = False  # whether a watch cycle (or --adopt) has built the whole project on this warehouse

    @classmethod
    def load(cls, warehouse: Path) -> WatchState:
        path = warehouse.parent / ".watch" / f"{warehouse.stem}.json"
        if not path.is_file():
            return cls(path)
        try:
            data = json.loads(path.read_text())
            done = {key: Signature(*value) for key, value in data["done"].items()}
            cycle = Cycle.from_json(data["in_progress"]) if data.get("in_progress") else None
            return cls(path, done, cycle, bool(data.get("built")))
        except (ValueError, KeyError, TypeError) as exc:
            raise WatchError(f"{path}: unreadable watch state ({exc}); delete it to process the landing again") from exc

    def save(self) -> None:
        """Write atomically: a crash leaves the old file or the new one, never half of one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "version": STATE_VERSION,
            "built": self.built,
            "done": {key: [s.size, s.modified] for key, s in sorted(self.done.items())},
            "in_progress": self.in_progress.to_json() if self.in_progress else None,
        }
        temporary = self.path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(data, indent=1))
        os.replace(temporary, self.path)


@contextmanager
def watch_lock(warehouse: Path) -> Iterator[None]:
    """Hold `<warehouse folder>/.watch/<name>.lock`; the kernel releases it when the process dies, even by kill -9."""
    path = warehouse.parent / ".watch" / f"{warehouse.stem}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            message = f"{warehouse}: another `finops watch` ({holder}) is already watching this warehouse"
            raise WatchError(message) from exc
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_runs(warehouse: Path, cycles: list[Cycle]) -> None:
    """Append rows to `meta.pipeline_runs` through dlt, like the load log, so it works on Snowflake too."""
    pipeline = dlt.pipeline(
        pipeline_name="finops_meta",
        destination=warehouse_destination(warehouse),
        dataset_name=META_DATASET,
        pipelines_dir=str(pipelines_dir(warehouse)),
    )
    rows = [cycle.row() for cycle in cycles]
    pipeline.run(dlt.resource(rows, name="pipeline_runs", write_disposition="append", columns=RUN_COLUMNS))


# ---------------------------------------------------------------------------------------------------
# The watcher
# ---------------------------------------------------------------------------------------------------


@dataclass
class WatchOutcome:
    succeeded: int = 0
    failed: int = 0


@dataclass
class WatchOptions:
    landing: str
    warehouse: Path
    interval: float = 10.0
    once: bool = False
    webhook: str | None = None
    dashboard_url: str = "http://localhost:8501"


class Watcher:
    """Polls the landing and runs one cycle per ready delivery; see the module docstring."""

    def __init__(self, options: WatchOptions, say: Callable[[str], None]) -> None:
        self.options = options
        self.say = say
        self.state = WatchState.load(options.warehouse)
        self.stop_requested = False
        # Files of failed cycles and when to try them again (sooner when they change, or at restart).
        self.failed: dict[str, tuple[Signature, float]] = {}
        self.waiting: set[str] = set()  # deliveries already reported as incomplete

    def run(self) -> WatchOutcome:
        """Watch until stopped, or make one pass with `once`."""
        outcome = WatchOutcome()
        with watch_lock(self.options.warehouse), self._signals():
            # Read again under the lock: a watcher that held it until a moment ago may have moved the state on.
            self.state = WatchState.load(self.options.warehouse)
            self._recover()
            previous = None
            if self.options.once:
                previous = list_landing(self.options.landing)
                self._sleep(self.options.interval)
            while not self.stop_requested:
                listing = list_landing(self.options.landing)
                for status in self._poll(listing, previous):
                    outcome.succeeded += status == SUCCEEDED
                    outcome.failed += status == FAILED
                previous = listing
                if self.options.once:
                    break
                self._sleep(self.options.interval)
        return outcome

    def adopt(self) -> int:
        """Mark every file now in the landing as processed without loading it; returns how many."""
        with watch_lock(self.options.warehouse):
            self.state = WatchState.load(self.options.warehouse)
            listing = list_landing(self.options.landing)
            self.state.done.update({key: landed.signature for key, landed in listing.items()})
            self.state.built = True
            self.state.save()
            return len(listing)

    def _poll(self, listing: dict[str, Landed], previous: dict[str, Landed] | None) -> list[str]:
        statuses = []
        for source, files in changed_files(listing, self.state.done).items():
            if self.stop_requested:
                break
            if all(self._held_back(f) for f in files):
                continue
            if not self._ready(source, files, listing, previous):
                continue
            statuses.append(self._cycle(source, files))
        return statuses

    def _held_back(self, landed: Landed) -> bool:
        """Whether this version of the file failed a cycle that is not due to be retried yet."""
        signature, retry_at = self.failed.get(landed.key, (None, 0.0))
        return signature == landed.signature and time.monotonic() < retry_at

    def _ready(self, source: str, files: list[Landed], listing: dict[str, Landed], previous: dict | None) -> bool:
        moving = unsettled(files, previous)
        missing = [] if moving else missing_from_manifests(files, listing)
        if not (moving or missing):
            self.waiting.discard(source)
            return True
        if source not in self.waiting and (missing or previous is not None):
            what = (
                f"{len(moving)} file(s) not yet the same over a poll interval"
                if moving
                else f"manifest names missing {missing[0]}"
            )
            self.say(f"waiting for {source}: {what}")
            self.waiting.add(source)
        return False

    def _cycle(self, source: str, files: list[Landed]) -> str:
        started = datetime.now(UTC)
        landed_at = datetime.fromtimestamp(min(f.signature.modified for f in files), tz=UTC)
        cycle = Cycle(f"{source}:{started:%Y%m%dT%H%M%S.%fZ}", source, [f.uri for f in files], landed_at, started)
        cycle.detect_seconds = round(max((started - landed_at).total_seconds(), 0.0), 3)
        self.state.in_progress = cycle
        self.state.save()
        self.say(f"{cycle.run_id}: {len(files)} new or changed file(s), landed {cycle.detect_seconds:.1f} s ago")
        write_runs(self.options.warehouse, [cycle])
        try:
            self._load(cycle)
            anomalies_rebuilt = ANOMALY_MART in self._build(cycle)
            if self.options.webhook and anomalies_rebuilt:
                self._alerts(cycle, self.options.webhook)
            cycle.status = SUCCEEDED
        except Stopped:
            cycle.status, cycle.error = INTERRUPTED, "stopped by a signal between steps; done again on the next run"
        except Exception as exc:
            cycle.status, cycle.error = FAILED, str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        cycle.finished_at = datetime.now(UTC)
        write_runs(self.options.warehouse, [cycle])
        if cycle.status == SUCCEEDED:
            self.state.done.update({f.key: f.signature for f in files})
        elif cycle.status == FAILED:
            retry_at = time.monotonic() + FAILED_RETRY_SECONDS
            self.failed.update({f.key: (f.signature, retry_at) for f in files})
        self.state.in_progress = None
        self.state.save()
        latency = (cycle.finished_at - landed_at).total_seconds()
        detail = f": {cycle.error}" if cycle.error else ""
        self.say(f"{cycle.run_id}: {cycle.status} in {latency:.1f} s from landing{detail}")
        return cycle.status

    def _step(self, cycle: Cycle, name: str) -> None:
        if self.stop_requested:
            raise Stopped(name)
        self.say(f"{cycle.run_id}: {name} started")

    def _load(self, cycle: Cycle) -> None:
        self._step(cycle, "load")
        began = time.perf_counter()
        report = run_load(cycle.source, source_location(self.options.landing, cycle.source), self.options.warehouse)
        cycle.load_seconds = round(time.perf_counter() - began, 3)
        cycle.rows_loaded = sum(report.rows_loaded.values())
        cycle.rows_rejected = report.rows_rejected
        self._checkpoint(cycle)
        self.say(
            f"{cycle.run_id}: load done in {cycle.load_seconds:.1f} s: {cycle.rows_loaded:,} rows loaded, "
            f"{cycle.rows_rejected:,} rejected"
        )

    def _build(self, cycle: Cycle) -> list[str]:
        self._step(cycle, "build")
        selection = ["--select", f"source:{DBT_SOURCES[cycle.source]}+", "source:meta+"]
        args = CYCLE_BUILD if not self.state.built else [*CYCLE_BUILD, *selection]
        began = time.perf_counter()
        nodes = run_dbt(args, self.options.warehouse, quiet=True)
        cycle.build_seconds = round(time.perf_counter() - began, 3)
        cycle.models = [node.rpartition(".")[2] for node in nodes if node.startswith("model.")]
        self.state.built = True
        self._checkpoint(cycle)
        self.say(f"{cycle.run_id}: build done in {cycle.build_seconds:.1f} s: {len(cycle.models)} model(s) rebuilt")
        return nodes

    def _alerts(self, cycle: Cycle, webhook: str) -> None:
        from finops_warehouse.alerts import read_new_alerts, send_alerts, webhook_host

        self._step(cycle, "alerts")
        began = time.perf_counter()
        alerts = read_new_alerts(self.options.warehouse, "MEDIUM", None)
        host = webhook_host(webhook)
        cycle.alerts_sent = send_alerts(alerts, self.options.warehouse, webhook, host, self.options.dashboard_url)
        cycle.alerts_seconds = round(time.perf_counter() - began, 3)
        self.say(f"{cycle.run_id}: alerts done in {cycle.alerts_seconds:.1f} s: {cycle.alerts_sent} sent")

    def _checkpoint(self, cycle: Cycle) -> None:
        """Keep the finished steps' figures in the state, for the `interrupted` row if the process dies."""
        self.state.in_progress = cycle
        self.state.save()

    def _recover(self) -> None:
        """Close the run log of a cycle a previous watcher did not finish; its files are still pending."""
        cycle = self.state.in_progress
        if cycle is None:
            return
        cycle.status = INTERRUPTED
        cycle.error = "the watcher stopped during this cycle (killed or crashed); its delivery is processed again"
        write_runs(self.options.warehouse, [cycle])
        self.state.in_progress = None
        self.state.save()
        self.say(f"{cycle.run_id}: recorded as interrupted; processing its delivery again")

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stop_requested and time.monotonic() < deadline:
            time.sleep(min(0.2, deadline - time.monotonic()))

    @contextmanager
    def _signals(self) -> Iterator[None]:
        """First Ctrl-C or SIGTERM: stop after the current step. Second: stop now (KeyboardInterrupt)."""

        def handle(signum: int, _frame: FrameType | None) -> None:
            if self.stop_requested:
                raise KeyboardInterrupt
            self.stop_requested = True
            self.say(f"{signal.Signals(signum).name}: stopping after the current step (again to stop now)")

        previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)
