"""Read business events (JSON lines or CSV) and pseudonymise personal fields before they are stored."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from ingestion.duck import flattened_text_columns, lineage_sql, literal, record_batches
from ingestion.errors import LoadError
from ingestion.files import ExportFile, list_files, local_copies

EVENT_PATTERNS = ("*.jsonl", "*.json", "*.ndjson", "*.csv", "*.jsonl.gz", "*.csv.gz")
REQUIRED = ("event_id", "event_type", "occurred_at")
# Fields that identify a person. They are replaced by a keyed hash at load time: counting distinct users
# still works, but no clear value ever reaches a warehouse table.
PERSONAL_FIELDS = ("user_id", "user_email", "email", "customer_id", "ip_address")
KEY_ENV = "FINOPS_PSEUDONYMISATION_KEY"


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


def file_batches(con: duckdb.DuckDBPyConnection, f: ExportFile, loaded_at: str, key: str) -> Iterator[pa.RecordBatch]:
    with local_copies([f]) as local:
        path = local[f.uri]
        con.execute(f"create or replace temp view src as {_reader_sql(path)}")
        columns = flattened_text_columns(con, "src")
        names = [part.rsplit(" as ", 1)[-1].strip('"') for part in columns]
        missing = [c for c in REQUIRED if c not in names]
        if missing:
            raise LoadError(f"{f.uri}: not a business events file; missing fields: {', '.join(missing)}")
        select = ", ".join(
            _pseudonymised(part, name) for part, name in zip(columns, names, strict=True) if name != "_line_number"
        )
        lineage = lineage_sql(f.uri, f.relative_path, loaded_at)
        sql = f"select {select}, _line_number, {lineage} from src"
        con.execute("set variable pseudonymisation_key = ?", [key])
        yield from record_batches(con, sql, f.uri)


def _pseudonymised(part: str, name: str) -> str:
    if name not in PERSONAL_FIELDS:
        return part
    expression = part.rsplit(" as ", 1)[0]
    return (
        f"case when {expression} is null then null else "
        f"'kh:' || sha256(getvariable('pseudonymisation_key') || '|' || {expression}) end as \"{name}\""
    )


def _reader_sql(path: Path) -> str:
    name = path.name.lower()
    if ".csv" in name:
        reader = f"read_csv({literal(str(path))}, all_varchar = true, header = true, strict_mode = true)"
    else:
        reader = f"read_json({literal(str(path))}, format = 'newline_delimited', sample_size = -1)"
    return f"select *, row_number() over () as _line_number from {reader}"
