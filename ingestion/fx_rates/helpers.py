"""Read exchange-rate CSVs, check every row, and keep one rate per day and currency pair."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from ingestion.duck import literal, quote, read_csv_into_src, record_batches, snake_case, unparsable_csv_lines
from ingestion.errors import LoadError
from ingestion.files import ExportFile, content_hash, list_files, local_copies
from ingestion.ledger import FAILED, FileOutcome, Ledger

RATE_PATTERNS = ("*.csv", "*.csv.gz")
KEY = ("rate_date", "from_currency", "to_currency")
REQUIRED = (*KEY, "rate")


def discover(location: str) -> list[ExportFile]:
    files = sorted(list_files(location, RATE_PATTERNS), key=lambda f: f.relative_path)
    if not files:
        raise LoadError(f"{location}: no exchange-rate files (*.csv) found")
    return files


def rate_batches(
    con: duckdb.DuckDBPyConnection, files: list[ExportFile], loaded_at: str, ledger: Ledger
) -> Iterator[pa.RecordBatch]:
    """The good rows of every file, one per key: a later file (in path order), then a later line, wins.

    dlt's merge needs each key once per load, and a rate given twice must resolve the same way every time.
    """
    con.execute(
        "create or replace temp table rates_read (rate_date varchar, from_currency varchar, "
        "to_currency varchar, rate varchar, _source_file varchar, _line_number bigint, _file_order integer)"
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
        f"select rate_date, from_currency, to_currency, rate, _source_file, _line_number, "
        f"cast({literal(loaded_at)} as timestamp) as _loaded_at from rates_read "
        f"qualify row_number() over (partition by {', '.join(KEY)} order by _file_order desc, _line_number desc) = 1"
    )
    yield from record_batches(con, sql, files[0].uri if len(files) == 1 else f"{len(files)} rate files")


def _read_file(con: duckdb.DuckDBPyConnection, ledger: Ledger, outcome: FileOutcome, path: Path, order: int) -> None:
    columns = {snake_case(name): column for name, column in read_csv_into_src(con, path).items()}
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise LoadError(f"{path}: not an exchange-rate file; missing columns: {', '.join(missing)}")
    for line, error_type, raw_text, message in unparsable_csv_lines(con):
        ledger.reject(outcome, line, f"{error_type.lower()}: {message}", raw_text)
    # Keys are normalised (ISO date, upper-case codes) so the same rate written two ways merges as one.
    con.execute(
        f"create or replace temp table shaped as select "
        f"strftime(try_cast(trim({quote(columns['rate_date'])}) as date), '%Y-%m-%d') as rate_date, "
        f"upper(trim({quote(columns['from_currency'])})) as from_currency, "
        f"upper(trim({quote(columns['to_currency'])})) as to_currency, "
        f"trim({quote(columns['rate'])}) as rate, "
        f"{literal(outcome.file)} as _source_file, _line_number, {order} as _file_order, "
        f"to_json(src) as _raw_text from src"
    )
    invalid = (
        "case when rate_date is null then 'rate_date is not a date (YYYY-MM-DD)' "
        "when not regexp_full_match(from_currency, '[A-Z]{3}') then 'from_currency is not a currency code' "
        "when not regexp_full_match(to_currency, '[A-Z]{3}') then 'to_currency is not a currency code' "
        "when coalesce(try_cast(rate as decimal(18, 10)), 0) <= 0 then 'rate is not a positive number' end"
    )
    for line, reason, raw_text in con.sql(
        f"select _line_number, {invalid}, _raw_text from shaped where ({invalid}) is not null"
    ).fetchall():
        ledger.reject(outcome, line, reason, raw_text)
    con.execute(
        f"insert into rates_read select rate_date, from_currency, to_currency, rate, _source_file, _line_number, "
        f"_file_order from shaped where ({invalid}) is null"
    )
    outcome.rows_read = con.sql("select count(*) from shaped").fetchall()[0][0] + len(unparsable_csv_lines(con))
    outcome.rows_loaded = outcome.rows_read - outcome.rows_rejected
