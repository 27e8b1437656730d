"""Read labelled-anomaly CSVs, check every row, and keep one label per anomaly_id."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from ingestion.duck import literal, quote, read_csv_into_src, record_batches, snake_case, unparsable_csv_lines
from ingestion.errors import LoadError
from ingestion.files import ExportFile, content_hash, list_files, local_copies
from ingestion.ledger import FAILED, FileOutcome, Ledger

LABEL_PATTERNS = ("*.csv",)
KEY = ("anomaly_id",)
# The scope columns, expected_daily_cost and description may be absent (null): a hand-kept incident log may
# not know all of them, but a label without a provider, kind or dates cannot be scored.
REQUIRED = (*KEY, "provider", "kind", "start_date", "end_date")
LABEL_COLUMNS = (
    "anomaly_id",
    "provider",
    "billing_account_id",
    "sub_account_id",
    "service_name",
    "team",
    "kind",
    "start_date",
    "end_date",
    "expected_daily_cost",
    "description",
)
PROVIDERS = ("aws_cur", "aws_cur2", "azure", "gcp")
KINDS = ("spike", "leak", "drop")

_INVALID = (
    "case when anomaly_id is null then 'anomaly_id is empty' "
    f"when provider is null or provider not in ({', '.join(map(literal, PROVIDERS))}) "
    f"then 'provider is not one of {', '.join(PROVIDERS)}' "
    f"when kind is null or kind not in ({', '.join(map(literal, KINDS))}) then 'kind is not one of {', '.join(KINDS)}' "
    "when start_date is null then 'start_date is not a date (YYYY-MM-DD)' "
    "when end_date is null then 'end_date is not a date (YYYY-MM-DD)' "
    "when cast(end_date as date) < cast(start_date as date) then 'end_date is before start_date' "
    "when expected_daily_cost is not null and try_cast(expected_daily_cost as decimal(38, 10)) is null "
    "then 'expected_daily_cost is not a number' end"
)


def discover(location: str) -> list[ExportFile]:
    files = sorted(list_files(location, LABEL_PATTERNS), key=lambda f: f.relative_path)
    if not files:
        raise LoadError(f"{location}: no anomaly-label files (*.csv) found")
    return files


def label_batches(
    con: duckdb.DuckDBPyConnection, files: list[ExportFile], loaded_at: str, ledger: Ledger
) -> Iterator[pa.RecordBatch]:
    """The good rows of every file, one per anomaly_id: a later file (in path order), then a later line, wins.

    dlt's merge needs each key once per load, and a label given twice must resolve the same way every time.
    """
    text_columns = ", ".join(f"{name} varchar" for name in LABEL_COLUMNS)
    con.execute(
        f"create or replace temp table labels_read ({text_columns}, "
        f"_source_file varchar, _line_number bigint, _file_order integer)"
    )
    with local_copies(files) as local:
        for order, f in enumerate(files):
            outcome = ledger.open_file(f.uri, f.uri, content_hash([local[f.uri]]))
            try:
                _read_file(con, ledger, outcome, local[f.uri], order)
            except LoadError as exc:
                outcome.finish(FAILED, str(exc))
                continue
            outcome.finish()
    sql = (
        f"select {', '.join(LABEL_COLUMNS)}, _source_file, _line_number, "
        f"cast({literal(loaded_at)} as timestamp) as _loaded_at from labels_read "
        f"qualify row_number() over (partition by {', '.join(KEY)} order by _file_order desc, _line_number desc) = 1"
    )
    yield from record_batches(con, sql, files[0].uri if len(files) == 1 else f"{len(files)} label files")


def _read_file(con: duckdb.DuckDBPyConnection, ledger: Ledger, outcome: FileOutcome, path: Path, order: int) -> None:
    columns = {snake_case(name): column for name, column in read_csv_into_src(con, path).items()}
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise LoadError(f"{path}: not an anomaly-label file; missing columns: {', '.join(missing)}")
    for line, error_type, raw_text, message in unparsable_csv_lines(con):
        ledger.reject(outcome, line, f"{error_type.lower()}: {message}", raw_text)
    con.execute(
        f"create or replace temp table shaped as select {', '.join(_shaped(columns))}, "
        f"{literal(outcome.file)} as _source_file, _line_number, {order} as _file_order, "
        f"to_json(src) as _raw_text from src"
    )
    for line, reason, raw_text in con.execute(
        f"select _line_number, {_INVALID}, _raw_text from shaped where ({_INVALID}) is not null"
    ).fetchall():
        ledger.reject(outcome, line, reason, raw_text)
    con.execute(
        f"insert into labels_read select {', '.join(LABEL_COLUMNS)}, _source_file, _line_number, _file_order "
        f"from shaped where ({_INVALID}) is null"
    )
    outcome.rows_read = con.execute("select count(*) from shaped").fetchall()[0][0] + len(unparsable_csv_lines(con))
    outcome.rows_loaded = outcome.rows_read - outcome.rows_rejected


def _shaped(columns: dict[str, str]) -> list[str]:
    """Select expressions for every label column: trimmed text, null when empty or absent.

    Dates stay as written when they are ISO dates (YYYY-MM-DD) and become null otherwise: `2026-09-01 10:00`
    would cast to a date, but silently dropping the time would change what the label means. Provider and
    kind are lower-cased, so a label written by hand as `Spike` means what the generator's would.
    """
    expressions = []
    for name in LABEL_COLUMNS:
        value = f"nullif(trim({quote(columns[name])}), '')" if name in columns else "cast(null as varchar)"
        if name in ("start_date", "end_date"):
            iso = f"regexp_full_match({value}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}')"
            value = f"case when {iso} and try_cast({value} as date) is not null then {value} end"
        elif name in ("provider", "kind"):
            value = f"lower({value})"
        expressions.append(f"{value} as {name}")
    return expressions
