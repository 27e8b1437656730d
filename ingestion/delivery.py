"""Load one delivery file by file, the same way for every provider: hash, skip duplicates, read, check
each row, keep the good rows, and account for every other one in the ledger.

A provider module supplies two things per file: how to read it into the temp table `src` (returning the
select list of raw columns), and which of those columns hold amounts that must be numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from ingestion.duck import (
    drop_src,
    lineage_sql,
    literal,
    quote,
    record_batches,
    reset_csv_rejects,
    unparsable_csv_lines,
)
from ingestion.errors import LoadError
from ingestion.files import ExportFile, content_hash, local_copies
from ingestion.ledger import DUPLICATE, FAILED, SKIPPED, SUPERSEDED, FileOutcome, Ledger

# How a provider reads one file: fills temp table or view `src` and returns the select list of raw columns.
Reader = Callable[[duckdb.DuckDBPyConnection, Path], str]
# A cheap look at one file (header, schema) that raises LoadError when it cannot be this provider's export.
Check = Callable[[duckdb.DuckDBPyConnection, Path], None]


@dataclass(frozen=True)
class DeliverySpec:
    """What a provider's delivery needs besides its files."""

    check: Check
    reader: Reader
    partition_sql: str  # expression over the raw columns naming the billing partition a row belongs to
    numeric_columns: tuple[str, ...]  # raw columns that must hold numbers when not empty
    lineage: dict[str, str]  # constant columns every row of this delivery carries (layout, dataset)


@dataclass(frozen=True)
class Delivery:
    """The files of one delivery, its id (None: derive one from the content) and when it was delivered.

    `delivered_at` orders deliveries of the same period (an export run's submitted time, an extract's
    export time); None where the provider gives no such time, and then the last one loaded wins.
    """

    files: list[ExportFile]
    delivery_id: str | None = None
    delivered_at: str | None = None


@dataclass(frozen=True)
class LoadState:
    """What the warehouse already holds, read once at the start of a load, and what this load has claimed.

    Deliveries are loaded newest first; `claimed` maps each billing partition to the delivery that loaded
    it in this run, so a second delivery of the same period in the same load (two exports of one scope,
    one invoice month extracted into two folders) cannot be counted twice.
    """

    loaded_at: str
    current_hashes: frozenset[str]
    delivered_at_by_partition: dict[str, str]
    claimed: dict[str, str] = field(default_factory=dict)


def delivery_batches(
    con: duckdb.DuckDBPyConnection, ledger: Ledger, delivery: Delivery, spec: DeliverySpec, state: LoadState
) -> Iterator[pa.RecordBatch]:
    """The good rows of one delivery, or nothing when it is a duplicate or one of its files is unusable.

    A delivery replaces whole billing periods, so it loads completely or not at all: a file that cannot
    be read at all (unknown layout, not a CSV) fails the delivery and keeps the previous one in place.
    Bad rows inside a readable file are rejected one by one and the rest of the file loads.
    """
    files = delivery.files
    with local_copies(files) as local:
        hashes = {f.uri: content_hash([local[f.uri]]) for f in files}
        delivery_id = delivery.delivery_id or "sha256:" + content_hash([local[f.uri] for f in files])[:20]
        outcomes = [ledger.open_file(f.uri, delivery_id, hashes[f.uri]) for f in files]
        if all(h in state.current_hashes for h in hashes.values()):
            for outcome in outcomes:
                outcome.finish(DUPLICATE, "identical to a file already loaded and still current; skipped")
            return
        if not _all_files_usable(con, files, local, spec, outcomes):
            return
        for f, outcome in zip(files, outcomes, strict=True):
            yield from _file_batches(con, ledger, outcome, local[f.uri], spec, delivery, state)
            outcome.finish(SUPERSEDED if outcome.rows_read and not outcome.rows_loaded and outcome.error else None)


def _all_files_usable(
    con: duckdb.DuckDBPyConnection,
    files: list[ExportFile],
    local: dict[str, Path],
    spec: DeliverySpec,
    outcomes: list[FileOutcome],
) -> bool:
    """Check every file of the delivery before any of it is loaded; log why when one is not usable."""
    for f, outcome in zip(files, outcomes, strict=True):
        try:
            spec.check(con, local[f.uri])
        except LoadError as exc:
            outcome.finish(FAILED, str(exc))
    failed = [o for o in outcomes if o.status == FAILED]
    for outcome in outcomes:
        if failed and outcome.status != FAILED:
            outcome.finish(SKIPPED, f"not loaded: {failed[0].file} of the same delivery failed")
    return not failed


def _file_batches(
    con: duckdb.DuckDBPyConnection,
    ledger: Ledger,
    outcome: FileOutcome,
    path: Path,
    spec: DeliverySpec,
    delivery: Delivery,
    state: LoadState,
) -> Iterator[pa.RecordBatch]:
    reset_csv_rejects(con)
    drop_src(con)
    select = spec.reader(con, path)
    _record_unparsable_lines(con, ledger, outcome)
    lineage = lineage_sql(
        outcome.file,
        outcome.delivery_id,
        state.loaded_at,
        _content_hash=outcome.content_hash or "",
        _delivered_at=delivery.delivered_at or "",
    )
    constants = "".join(f", {literal(value)} as {quote(name)}" for name, value in spec.lineage.items())
    con.execute(
        f"create or replace temp table shaped as select *, {spec.partition_sql} as _billing_partition "
        f"from (select {select}, {lineage}{constants} from src)"
    )
    present = set(con.sql("select * from shaped limit 0").columns)
    invalid = _invalid_number_sql(tuple(c for c in spec.numeric_columns if c in present))
    for line_number, reason, raw_text in con.sql(
        f"select _line_number, {invalid}, to_json(shaped) from shaped where {invalid} is not null"
    ).fetchall():
        ledger.reject(outcome, line_number, reason, raw_text)
    outcome.rows_read = con.sql("select count(*) from shaped").fetchall()[0][0] + len(unparsable_csv_lines(con))
    _drop_periods_already_newer(con, outcome, delivery, state)
    good = f"select * from shaped where {invalid} is null"
    for batch in record_batches(con, good, outcome.file):
        outcome.rows_loaded += batch.num_rows
        yield batch


def _drop_periods_already_newer(
    con: duckdb.DuckDBPyConnection, outcome: FileOutcome, delivery: Delivery, state: LoadState
) -> None:
    """Leave out the billing periods for which a newer delivery is already in the warehouse or in this load.

    Loading an old export run after a newer one must not bring the old numbers back, and two deliveries
    of one period in one load must not both count.
    """
    partitions = [p for (p,) in con.sql("select distinct _billing_partition from shaped").fetchall()]
    newer_stored = [
        p
        for p in partitions
        if delivery.delivered_at and state.delivered_at_by_partition.get(p, "") > delivery.delivered_at
    ]
    claimed_elsewhere = [p for p in partitions if state.claimed.get(p, outcome.delivery_id) != outcome.delivery_id]
    for partition in partitions:
        if partition not in newer_stored and partition not in claimed_elsewhere:
            state.claimed[partition] = outcome.delivery_id
    stale = sorted(set(newer_stored) | set(claimed_elsewhere))
    if not stale:
        return
    con.execute("delete from shaped where list_contains(?, _billing_partition)", [stale])
    reasons = []
    if newer_stored:
        newest = max(state.delivered_at_by_partition[p] for p in newer_stored)
        reasons.append(f"the warehouse holds a newer delivery ({newest} > {delivery.delivered_at})")
    if claimed_elsewhere:
        reasons.append(f"a newer delivery in this load covers it ({state.claimed[claimed_elsewhere[0]]})")
    outcome.error = f"not loaded for {', '.join(stale)}: {'; '.join(reasons)}"


def _invalid_number_sql(columns: tuple[str, ...]) -> str:
    """SQL naming the first amount column of a row that is not a number, or null for a good row."""
    if not columns:
        return "cast(null as varchar)"
    checks = " ".join(
        f"when {quote(c)} is not null and trim({quote(c)}) <> '' "
        f"and (try_cast({quote(c)} as double) is null or isnan(try_cast({quote(c)} as double))) "
        f"then '{c} is not a number: ' || {quote(c)} "
        for c in columns
    )
    return f"(case {checks}end)"


def _record_unparsable_lines(con: duckdb.DuckDBPyConnection, ledger: Ledger, outcome: FileOutcome) -> None:
    for line, error_type, raw_text, message in unparsable_csv_lines(con):
        ledger.reject(outcome, line, f"{error_type.lower()}: {message}", raw_text)
