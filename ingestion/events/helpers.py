"""Read business events (JSON lines or CSV) and pseudonymise personal fields before they are stored."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from ingestion.duck import connect, first_line, flattened_text_columns, literal, record_batches
from ingestion.errors import LoadError
from ingestion.files import ExportFile, content_hash, list_files, local_copies
from ingestion.ledger import Ledger

EVENT_PATTERNS = ("*.jsonl", "*.json", "*.ndjson", "*.csv", "*.jsonl.gz", "*.csv.gz")
REQUIRED = ("event_id", "event_type", "occurred_at")
# Fields that identify a person. They are replaced by a keyed hash at load time: counting distinct users
# still works, but no clear value ever reaches a warehouse table.
PERSONAL_FIELDS = ("user_id", "user_email", "email", "customer_id", "ip_address")
KEY_ENV = "FINOPS_PSEUDONYMISATION_KEY"
BUILT_IN_EVENT_TYPES = ("transaction", "active_user", "api_call")
EVENT_TYPES_ENV = "FINOPS_EVENT_TYPES"


def discover(location: str) -> list[ExportFile]:
    files = list_files(location, EVENT_PATTERNS)
    if not files:
        raise LoadError(f"{location}: no event files (*.jsonl, *.json, *.csv) found")
    return files


def pseudonymisation_key(secrets_dir: Path) -> str:
    """The keyed-hash secret: env var first, else a random key kept in the (never committed) secrets dir."""
    key = os.environ.get(KEY_ENV)
    if key:
        return key
    key_file = secrets_dir / "pseudonymisation.key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def event_types() -> tuple[str, ...]:
    """The event types accepted: the built-in ones plus any the user declares in FINOPS_EVENT_TYPES."""
    declared = [t.strip().lower() for t in os.environ.get(EVENT_TYPES_ENV, "").split(",") if t.strip()]
    return (*BUILT_IN_EVENT_TYPES, *declared)


def event_batches(
    con: duckdb.DuckDBPyConnection, files: list[ExportFile], loaded_at: str, key: str, ledger: Ledger
) -> Iterator[pa.RecordBatch]:
    """All event files read in one query (events arrive as many small files), checked and pseudonymised."""
    with local_copies(files) as local:
        # Each file as text before they meet: a field that is a number in one file and a date or an object
        # in another would otherwise fail the union, and with it the load of every file.
        per_file = [_file_as_text(con, index, f.uri, local[f.uri]) for index, f in enumerate(files)]
        con.execute(f"create or replace temp table src as {' union all by name '.join(per_file)}")
        columns = flattened_text_columns(con, "src")
        names = _column_names(columns)
        missing = [c for c in REQUIRED if c not in names]
        if missing:
            raise LoadError(f"{files[0].uri}: not a business events file; missing fields: {', '.join(missing)}")
        pairs = list(zip(columns, names, strict=True))
        select = ", ".join(_pseudonymised(part, name) for part, name in pairs)
        con.execute("set variable pseudonymisation_key = ?", [key])
        # Each events file is its own delivery; the file name is its id. Personal fields are hashed here,
        # before anything (a rejected row's text included) is written anywhere.
        con.execute(
            f"create or replace temp table shaped as select *, {_reject_reason_sql(set(names))} as _reject_reason "
            f"from (select {select}, _line_number, _source_file, _source_file as _delivery_id, "
            f"cast({literal(loaded_at)} as timestamp) as _loaded_at from src)"
        )
        _log_files(con, ledger, files, local)
        good = "select * exclude (_reject_reason) from shaped where _reject_reason is null"
        yield from record_batches(con, good, files[0].uri if len(files) == 1 else f"{len(files)} event files")


def _file_as_text(con: duckdb.DuckDBPyConnection, index: int, uri: str, path: Path) -> str:
    """A select of one events file with every field as text, its line numbers and its name.

    Read into a table, not a view: the reader infers the file's schema once, not on every describe.
    """
    table = f"events_file_{index}"
    con.execute(
        f"create or replace temp table {table} as "
        f"select *, row_number() over () as _line_number, {literal(uri)} as _source_file from {_reader(path)}"
    )
    return f"select {', '.join(flattened_text_columns(con, table))}, _line_number, _source_file from {table}"


def rejected_events(path: Path) -> list[tuple[int, str]]:
    """(line number, reason) for every event in one events file that `event_batches` would reject.

    The same reader and the same checks as a load, so a caller can refuse a file before it is ever loaded
    (the HTTP endpoint does, so that an event it accepts always loads).
    """
    con = connect()
    try:
        con.execute(f"create temp table src as select *, row_number() over () as _line_number from {_reader(path)}")
        columns = flattened_text_columns(con, "src")
        names = _column_names(columns)
        missing = [c for c in REQUIRED if c not in names]
        if missing:
            raise LoadError(f"{path}: not a business events file; missing fields: {', '.join(missing)}")
        shaped = f"select {', '.join(columns)}, _line_number from src"
        reasons = f"select _line_number, {_reject_reason_sql(set(names))} as reason from ({shaped})"
        return con.sql(f"select * from ({reasons}) where reason is not null order by 1").fetchall()
    except duckdb.Error as exc:
        raise LoadError(f"{path}: {first_line(exc)}") from exc
    finally:
        con.close()


def _column_names(columns: list[str]) -> list[str]:
    """The names of `flattened_text_columns` select expressions (`... as "name"`)."""
    return [part.rsplit(" as ", 1)[-1].strip('"') for part in columns]


def _reject_reason_sql(present: set[str]) -> str:
    """Why an event cannot be loaded, or null: no id, a type nobody declared, a time or number that is not one."""
    types = ", ".join(literal(t) for t in event_types())
    checks = [
        "when event_id is null or trim(event_id) = '' then 'event_id is missing'",
        f"when lower(event_type) not in ({types}) then 'unknown event_type: ' || coalesce(event_type, 'null') "
        f"|| ' (declare it in {EVENT_TYPES_ENV})'",
        "when try_cast(occurred_at as timestamptz) is null then 'occurred_at is not a timestamp: ' "
        "|| coalesce(occurred_at, 'null')",
    ]
    if "quantity" in present:
        checks.append(
            "when quantity is not null and try_cast(quantity as bigint) is null "
            "then 'quantity is not a whole number: ' || quantity"
        )
    if "revenue" in present:
        checks.append(
            "when revenue is not null and try_cast(revenue as decimal(38, 12)) is null "
            "then 'revenue is not a number: ' || revenue"
        )
    return f"(case {' '.join(checks)} end)"


def _log_files(con: duckdb.DuckDBPyConnection, ledger: Ledger, files: list[ExportFile], local: dict[str, Path]) -> None:
    """One load-log row per events file and one rejected-rows row per event that cannot load."""
    outcomes = {}
    for f in files:
        outcomes[f.uri] = ledger.open_file(f.uri, f.uri, content_hash([local[f.uri]]))
    for file, read, rejected in con.sql(
        "select _source_file, count(*), count(_reject_reason) from shaped group by 1"
    ).fetchall():
        outcomes[file].rows_read, outcomes[file].rows_loaded = read, read - rejected
    for file, line, reason, raw_text in con.sql(
        "select _source_file, _line_number, _reject_reason, to_json(shaped) from shaped "
        "where _reject_reason is not null order by 1, 2"
    ).fetchall():
        ledger.reject(outcomes[file], line, reason, raw_text)
    for outcome in outcomes.values():
        outcome.finish()


def _pseudonymised(part: str, name: str) -> str:
    if name not in PERSONAL_FIELDS:
        return part
    expression = part.rsplit(" as ", 1)[0]
    return (
        f"case when {expression} is null then null else "
        f"'kh:' || sha256(getvariable('pseudonymisation_key') || '|' || {expression}) end as \"{name}\""
    )


def _reader(path: Path) -> str:
    # Folder names such as date=2026-08-01 are how events are filed, not fields of the events.
    if ".csv" in path.name.lower():
        options = "all_varchar = true, header = true, strict_mode = true, hive_partitioning = false"
        return f"read_csv({literal(str(path))}, {options})"
    return f"read_json({literal(str(path))}, format = 'newline_delimited', sample_size = -1, hive_partitioning = false)"
