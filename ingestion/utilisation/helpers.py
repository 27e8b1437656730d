"""Read utilisation CSVs, check every row, and keep one value per resource, metric and day."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from ingestion.duck import literal, quote, read_csv_into_src, record_batches, snake_case, unparsable_csv_lines
from ingestion.errors import LoadError
from ingestion.files import ExportFile, content_hash, list_files, local_copies
from ingestion.ledger import FAILED, FileOutcome, Ledger

PATTERNS = ("*.csv", "*.csv.gz")
KEY = ("provider", "resource_id", "metric", "metric_date")
REQUIRED = ("date", "provider", "resource_id", "metric", "average", "maximum")
METRICS = ("cpu_utilization", "memory_utilization")
PROVIDERS = ("AWS", "Microsoft", "Google Cloud")


def discover(location: str) -> list[ExportFile]:
    files = sorted(list_files(location, PATTERNS), key=lambda f: f.relative_path)
    if not files:
        raise LoadError(f"{location}: no utilisation files (*.csv) found")
    return files


def metric_batches(
    con: duckdb.DuckDBPyConnection, files: list[ExportFile], loaded_at: str, ledger: Ledger
) -> Iterator[pa.RecordBatch]:
    """The good rows of every file, one per key: a later file (in path order), then a later line, wins.

    dlt's merge needs each key once per load, and a value given twice must resolve the same way every time.
    """
    con.execute(
        "create or replace temp table metrics_read (metric_date varchar, provider varchar, resource_id varchar, "
        "metric varchar, average varchar, maximum varchar, _source_file varchar, _line_number bigint, "
        "_file_order integer)"
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
        f"select metric_date, provider, resource_id, metric, average, maximum, _source_file, _line_number, "
        f"cast({literal(loaded_at)} as timestamp) as _loaded_at from metrics_read "
        f"qualify row_number() over (partition by {', '.join(KEY)} order by _file_order desc, _line_number desc) = 1"
    )
    yield from record_batches(con, sql, files[0].uri if len(files) == 1 else f"{len(files)} utilisation files")


def _read_file(con: duckdb.DuckDBPyConnection, ledger: Ledger, outcome: FileOutcome, path: Path, order: int) -> None:
    columns = {snake_case(name): column for name, column in read_csv_into_src(con, path).items()}
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise LoadError(f"{path}: not a utilisation file; missing columns: {', '.join(missing)}")
    for line, error_type, raw_text, message in unparsable_csv_lines(con):
        ledger.reject(outcome, line, f"{error_type.lower()}: {message}", raw_text)
    con.execute(
        f"create or replace temp table shaped as select "
        f"strftime(try_cast(trim({quote(columns['date'])}) as date), '%Y-%m-%d') as metric_date, "
        f"trim({quote(columns['provider'])}) as provider, "
        f"trim({quote(columns['resource_id'])}) as resource_id, "
        f"lower(trim({quote(columns['metric'])})) as metric, "
        f"trim({quote(columns['average'])}) as average, "
        f"trim({quote(columns['maximum'])}) as maximum, "
        f"{literal(outcome.file)} as _source_file, _line_number, {order} as _file_order, "
        f"to_json(src) as _raw_text from src"
    )
    percent = "coalesce(try_cast({} as decimal(9, 4)) between 0 and 100, false)"
    invalid = (
        "case when metric_date is null then 'date is not a date (YYYY-MM-DD)' "
        f"when provider not in ({', '.join(literal(p) for p in PROVIDERS)}) "
        f"then 'provider is not one of {', '.join(PROVIDERS)}' "
        "when coalesce(resource_id, '') = '' then 'resource_id is empty' "
        f"when metric not in ({', '.join(literal(m) for m in METRICS)}) "
        f"then 'metric is not one of {', '.join(METRICS)}' "
        f"when not {percent.format('average')} then 'average is not a percentage from 0 to 100' "
        f"when not {percent.format('maximum')} then 'maximum is not a percentage from 0 to 100' "
        "when try_cast(maximum as decimal(9, 4)) < try_cast(average as decimal(9, 4)) "
        "then 'maximum is below average' end"
    )
    for line, reason, raw_text in con.sql(
        f"select _line_number, {invalid}, _raw_text from shaped where ({invalid}) is not null"
    ).fetchall():
        ledger.reject(outcome, line, reason, raw_text)
    con.execute(
        f"insert into metrics_read select metric_date, provider, resource_id, metric, average, maximum, "
        f"_source_file, _line_number, _file_order from shaped where ({invalid}) is null"
    )
    outcome.rows_read = con.sql("select count(*) from shaped").fetchall()[0][0] + len(unparsable_csv_lines(con))
    outcome.rows_loaded = outcome.rows_read - outcome.rows_rejected
