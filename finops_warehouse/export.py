"""Write the FOCUS table to a file: Parquet (typed) or CSV (FOCUS text formats)."""

from __future__ import annotations

from pathlib import Path

import duckdb

FOCUS_TABLE = "marts.focus_costs"


class ExportError(Exception):
    """The export cannot be written (no warehouse, no FOCUS table, unknown format)."""


def export_focus(warehouse: Path, out: Path) -> int:
    """Export `marts.focus_costs` to `out` (.parquet or .csv); returns the number of rows written.

    Timestamps are written as UTC: typed with a time zone in Parquet, as `YYYY-MM-DDTHH:MM:SSZ` in CSV,
    which is the FOCUS Date/Time Format.
    """
    suffix = out.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise ExportError(f"{out}: unknown export format {suffix or '(none)'}; use .parquet or .csv")
    if not warehouse.is_file():
        raise ExportError(f"{warehouse}: no warehouse; run `finops demo` or `finops load` and `finops build`")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        columns = _columns(con)
        select = ", ".join(_export_expression(name, kind, suffix) for name, kind in columns)
        out.parent.mkdir(parents=True, exist_ok=True)
        options = "format parquet, compression zstd" if suffix == ".parquet" else "format csv, header true"
        con.execute(f"copy (select {select} from {FOCUS_TABLE}) to '{_escaped(out)}' ({options})")
        return con.sql(f"select count(*) from {FOCUS_TABLE}").fetchall()[0][0]


def _columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    rows = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'marts' and table_name = 'focus_costs' order by ordinal_position"
    ).fetchall()
    if not rows:
        raise ExportError(f"the warehouse has no {FOCUS_TABLE}; run `finops build` first")
    return rows


def _export_expression(name: str, kind: str, suffix: str) -> str:
    quoted = '"' + name.replace('"', '""') + '"'
    if kind.startswith("TIMESTAMP"):
        if suffix == ".csv":
            return f"strftime({quoted}, '%Y-%m-%dT%H:%M:%SZ') as {quoted}"
        return f"timezone('UTC', {quoted}) as {quoted}"
    return quoted


def _escaped(path: Path) -> str:
    return str(path.resolve()).replace("'", "''")
