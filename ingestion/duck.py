"""DuckDB helpers shared by the loaders: read native files fast and shape them into raw rows.

dlt's own CSV reader builds a Python dict per row and is two orders of magnitude slower than DuckDB's
reader, so every loader reads with DuckDB and hands dlt Arrow record batches.
"""

from __future__ import annotations

import csv
import gzip
import os
import re
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from ingestion.errors import LoadError

BATCH_ROWS = 250_000
# DuckDB's memory cap, here and in the dbt profile: the benchmark's large estate stays under 4 GB with it.
MEMORY_LIMIT_ENV = "FINOPS_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "3GB"

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[^0-9a-zA-Z]+")


def snake_case(name: str) -> str:
    """`lineItem/UsageStartDate` -> `line_item_usage_start_date`, `costInUsd` -> `cost_in_usd`.

    Legacy CUR names normalised this way equal their CUR 2.0 names, so both layouts share one raw table.
    """
    words = _NON_WORD.sub("_", _CAMEL_BOUNDARY.sub("_", name.strip().lstrip("\ufeff")))
    return words.strip("_").lower()


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for reading export files, capped like the warehouse's (profiles.yml).

    Without a cap DuckDB takes up to 80% of the machine's memory for one big CSV; with it, it spills to
    a temporary folder instead, so a month of a large estate loads on a laptop beside everything else.
    """
    con = duckdb.connect()
    con.execute("set preserve_insertion_order = true")
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"set memory_limit = {literal(os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT)}")
    con.execute(f"set temp_directory = {literal(str(Path(tempfile.gettempdir()) / 'finops-duckdb-spill'))}")
    return con


def csv_header(path: Path) -> list[str]:
    """The header of a CSV (plain or gzipped) exactly as written, BOM stripped.

    Read here rather than by DuckDB, which de-duplicates names case-insensitively: a CUR with both
    `resourceTags/user:team` and `resourceTags/user:Team` would otherwise come back as `user:Team_1`.
    """
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LoadError(f"{path}: cannot read the CSV header: {first_line(exc)}") from exc
    if not header:
        raise LoadError(f"{path}: empty file, no CSV header")
    return [name.strip() for name in header]


def read_csv_into_src(con: duckdb.DuckDBPyConnection, path: Path) -> dict[str, str]:
    """Read a CSV into temp table `src`: every column as text, by position, with its true line number.

    Columns are read by position (c1, c2, ...) so that names equal but for case stay apart. Lines DuckDB
    cannot parse (wrong field count, broken quoting) go to `csv_rejects` instead of failing the file; good
    rows keep their real line in the file, counting the rejected lines before them. Returns
    {header name as written: column in `src`}.
    """
    header = csv_header(path)
    positional = [f"c{index}" for index in range(1, len(header) + 1)]
    name_list = ", ".join(literal(name) for name in positional)
    reset_csv_rejects(con)
    try:
        _read_csv_table(con, path, name_list)
    except duckdb.Error as exc:
        if not path.name.lower().endswith(".gz"):
            raise LoadError(f"{path}: cannot read as CSV: {first_line(exc)}") from exc
        _read_truncated_gzip(con, path, name_list)
    _number_lines(con, [line for line, *_ in unparsable_csv_lines(con)])
    return dict(zip(header, positional, strict=True))


def _read_csv_table(con: duckdb.DuckDBPyConnection, path: Path, name_list: str) -> None:
    con.execute(
        f"create or replace temp table src as "
        f"select *, row_number() over () as _row_index "
        f"from read_csv({literal(str(path))}, all_varchar = true, header = true, names = [{name_list}], "
        f"strict_mode = true, null_padding = false, ignore_errors = true, store_rejects = true, "
        f"rejects_table = 'csv_rejects', rejects_scan = 'csv_scans', hive_partitioning = false)"
    )


def _read_truncated_gzip(con: duckdb.DuckDBPyConnection, path: Path, name_list: str) -> None:
    """Load the complete lines of a gzip that ends early, and reject the rest as one unparsable line.

    A delivery cut short in transfer still holds good rows; they load, and the cut is logged with the
    line where the data stops.
    """
    # A streaming decompressor returns everything the intact part of the stream holds; gzip.open would
    # raise on the truncated tail and give back nothing of the block it was reading.
    decompressor = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    data = bytearray()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                data.extend(decompressor.decompress(block))
    except zlib.error:
        pass
    complete, _, partial = bytes(data).rpartition(b"\n")
    with tempfile.TemporaryDirectory(prefix="finops-salvage-") as tmp:
        salvaged = Path(tmp) / path.name.removesuffix(".gz")
        salvaged.write_bytes(complete + b"\n")
        try:
            _read_csv_table(con, salvaged, name_list)
        except duckdb.Error as exc:
            raise LoadError(f"{path}: cannot read as CSV: {first_line(exc)}") from exc
    line = complete.count(b"\n") + 2
    con.execute(
        "insert into unreadable_lines values (?, 'TRUNCATED GZIP', ?, ?)",
        [line, partial.decode("utf-8", "replace"), f"the compressed file ends inside line {line}"],
    )


def read_table_into_src(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """A CSV (plain or gzipped) or Parquet file as `src`, with `_line_number`.

    Returns ({column name as written: column in `src`}, {column in `src`: its type}); CSV columns are all
    text and addressed by position (see read_csv_into_src).
    """
    if not path.name.lower().endswith(".parquet"):
        columns = read_csv_into_src(con, path)
        return columns, dict.fromkeys(columns.values(), "VARCHAR")
    con.execute(
        f"create or replace temp view src as select *, row_number() over () as _line_number "
        f"from read_parquet({literal(str(path))}, hive_partitioning = false)"
    )
    described = con.sql("select * from src limit 0")
    kinds = dict(zip(described.columns, [str(t) for t in described.types], strict=True))
    return {name: name for name in described.columns if name != "_line_number"}, kinds


def _number_lines(con: duckdb.DuckDBPyConnection, rejected_lines: list[int], first_data_line: int = 2) -> None:
    """Give each row of `src` its line in the file, counting the rejected lines before it."""
    con.execute("alter table src add column _line_number bigint")
    offset = first_data_line - 1
    if not rejected_lines:
        con.execute(f"update src set _line_number = _row_index + {offset}")
        return
    # The i-th good row sits on line i + offset + the number of rejected lines before it.
    values = ", ".join(f"({line}, {rank})" for rank, line in enumerate(rejected_lines, start=1))
    con.execute(
        f"update src set _line_number = _row_index + {offset} + coalesce(("
        f"select max(rank) from (values {values}) as r(line, rank) "
        f"where r.line - r.rank - {offset} < src._row_index), 0)"
    )


def read_json_lines_into_src(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Read newline-delimited JSON into temp table `src`, with each record's line number.

    A line that is not valid JSON is set aside in `unreadable_lines` (line, text) instead of failing the
    file; the valid ones load. Blank lines are not records.
    """
    reset_csv_rejects(con)
    lines = (
        f"read_csv({literal(str(path))}, columns = {{'text': 'VARCHAR'}}, header = false, "
        f"delim = chr(30), quote = '', escape = '', auto_detect = false, hive_partitioning = false)"
    )
    con.execute(f"create or replace temp table json_lines as select row_number() over () as line, text from {lines}")
    con.execute(
        "insert into unreadable_lines select line, 'INVALID JSON', text, 'the line is not a JSON record' "
        "from json_lines where trim(text) <> '' and not json_valid(text)"
    )
    with tempfile.TemporaryDirectory(prefix="finops-json-") as tmp:
        valid = Path(tmp) / "records.jsonl"
        con.execute(
            f"copy (select text from json_lines where trim(text) <> '' and json_valid(text) order by line) "
            f"to {literal(str(valid))} (format csv, header false, quote '', escape '', delim chr(30))"
        )
        # Every record decides the schema (sample_size = -1): a field first seen late must not be dropped.
        con.execute(
            f"create or replace temp table src as select *, row_number() over () as _row_index "
            f"from read_json({literal(str(valid))}, format = 'newline_delimited', sample_size = -1, "
            f"hive_partitioning = false)"
        )
    skipped = [
        line
        for (line,) in con.sql(
            "select line from json_lines where trim(text) = '' or not json_valid(text) order by line"
        ).fetchall()
    ]
    _number_lines(con, skipped, first_data_line=1)


def drop_src(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the previous file's `src`, which readers create as a view (Parquet) or a table (CSV, JSON)."""
    for kind in ("view", "table"):
        try:
            con.execute(f"drop {kind} if exists src")
        except duckdb.CatalogException:
            continue


def reset_csv_rejects(con: duckdb.DuckDBPyConnection) -> None:
    """Forget the previous file's unparsable lines; DuckDB appends every scan's to the same tables."""
    con.execute("drop table if exists csv_rejects")
    con.execute("drop table if exists csv_scans")
    con.execute(
        "create or replace temp table unreadable_lines "
        "(line bigint, error_type varchar, csv_line varchar, error_message varchar)"
    )


def unparsable_csv_lines(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str, str, str]]:
    """(line, error type, line text, message) of the lines the last CSV read could not parse."""
    try:
        # DuckDB writes one entry per bad field; a line is one rejected row whatever its count.
        parsed = con.sql(
            "select line, min(error_type::varchar), min(csv_line), string_agg(distinct error_message, '; ') "
            "from csv_rejects group by line"
        ).fetchall()
    except duckdb.CatalogException:
        parsed = []
    return sorted([*parsed, *con.sql("select * from unreadable_lines").fetchall()])


_NUMBER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "VARCHAR")


def check_amount_types(con: duckdb.DuckDBPyConnection, path: Path, numeric_columns: tuple[str, ...]) -> None:
    """Fail a typed file (Parquet) whose amount column changed to a type that cannot hold an amount.

    Text is accepted (each value is still checked row by row); a date or a boolean where a cost should
    be means the export changed shape, and loading it would lose the amounts.
    """
    described = con.sql(f"select * from read_parquet({literal(str(path))}, hive_partitioning = false) limit 0")
    for name, kind in zip(described.columns, [str(t) for t in described.types], strict=True):
        if snake_case(name).replace("_a_r_n", "_arn") in numeric_columns and not kind.startswith(_NUMBER_TYPES):
            raise LoadError(f"{path}: column {name!r} changed type to {kind}; an amount must be a number")


def snake_case_names(path: Path, columns: dict[str, str]) -> dict[str, str]:
    """{snake_case name: source column} for {name as written: source column}.

    Two names that normalise alike (`CostCenter`, `costCenter`) are an error naming both, not a silent merge.
    """
    renamed: dict[str, str] = {}
    written: dict[str, str] = {}
    for name, column in columns.items():
        target = snake_case(name)
        if target in renamed:
            raise LoadError(f"{path}: columns {written[target]!r} and {name!r} both normalise to {target!r}")
        renamed[target], written[target] = column, name
    return renamed


def record_batches(con: duckdb.DuckDBPyConnection, sql: str, source: str) -> Iterator[pa.RecordBatch]:
    """Run `sql` and stream its result as Arrow batches; errors name the source file."""
    try:
        reader = con.sql(sql).to_arrow_reader(BATCH_ROWS)
        yield from reader
    except duckdb.Error as exc:
        raise LoadError(f"{source}: {first_line(exc)}") from exc


def first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0]


def json_object_of_columns(columns: dict[str, str]) -> str:
    """SQL for a JSON object of {key: column} that leaves out null and empty values.

    Used to pack legacy CUR `resourceTags/*` and `product/*` columns into the map shape CUR 2.0 has, so a
    new tag key is a new JSON key, not a schema change.
    """
    if not columns:
        return "cast(null as varchar)"
    entries = ", ".join(f"struct_pack(k := {literal(key)}, v := {quote(col)})" for key, col in columns.items())
    return (
        f"nullif(to_json(map_from_entries(list_filter([{entries}], "
        f"lambda e: e.v is not null and trim(e.v) <> ''))), '{{}}')"
    )


def flattened_text_columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    """Select expressions that flatten one level of structs and turn every value into text.

    BigQuery-shaped records (`service.description`, `usage.amount`) become `service_description`,
    `usage_amount`; deeper structs and lists (labels, credits) stay as JSON text for staging to parse.
    Text keeps raw tables tolerant of drift: a type change cannot fail a load, only a cast in staging.
    Columns whose name starts with `_` are the loader's own and are left to the caller.
    """
    described = con.sql(f"select * from {relation} limit 0")
    parts = []
    for col, kind in zip(described.columns, [str(t) for t in described.types], strict=True):
        if col.startswith("_"):
            continue  # our own bookkeeping columns (_line_number, _row_index, _source_file), added by the caller
        if kind.startswith("STRUCT(") and not kind.endswith("[]"):
            for field_name in _struct_fields(con, relation, col):
                expression = f"{quote(col)}.{quote(field_name)}"
                kind_of_field = _field_type(con, relation, col, field_name)
                name = snake_case(f"{col}_{field_name}")
                parts.append(f"{value_as_text(expression, kind_of_field)} as {quote(name)}")
        else:
            parts.append(f"{value_as_text(quote(col), kind)} as {quote(snake_case(col))}")
    return parts


def _struct_fields(con: duckdb.DuckDBPyConnection, relation: str, col: str) -> list[str]:
    rel = con.sql(f"select unnest({quote(col)}) from {relation} limit 0")
    return list(rel.columns)


def _field_type(con: duckdb.DuckDBPyConnection, relation: str, col: str, field_name: str) -> str:
    rel = con.sql(f"select {quote(col)}.{quote(field_name)} as f from {relation} limit 0")
    return str(rel.types[0])


def value_as_text(expression: str, kind: str) -> str:
    """One value as text: nested values as JSON, timestamps as ISO 8601 UTC, the rest as written."""
    if kind == "JSON":
        # A field whose records disagree on its type (1 in one, "many" in another) reads as JSON: the
        # scalar's own text, not its JSON quoting, is what the file says.
        return f"json_extract_string({expression}, '$')"
    if kind.startswith(("MAP", "STRUCT")) or kind.endswith("]"):
        return f"nullif(nullif(to_json({expression}), '{{}}'), '[]')"
    if kind.startswith("TIMESTAMP"):
        return f"strftime({expression}, '%Y-%m-%dT%H:%M:%SZ')"
    return f"cast({expression} as varchar)"


def lineage_sql(source_file: str, delivery_id: str, loaded_at: str, **constants: str) -> str:
    """Select expressions every raw row carries: where it came from and when it was loaded."""
    extra = "".join(f", {literal(value)} as {quote(name)}" for name, value in constants.items())
    return (
        f"{literal(source_file)} as _source_file, {literal(delivery_id)} as _delivery_id, "
        f"cast({literal(loaded_at)} as timestamp) as _loaded_at{extra}"
    )
