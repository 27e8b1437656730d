"""A local fakesnow server for the Snowflake build in CI, and the raw tables copied into it from DuckDB.

The loaders write raw tables with dlt; on Snowflake dlt creates them with upper-case, case-insensitive
names, which is what creating them here with unquoted names gives too. Values are copied as the loaders
wrote them (text, the line number, the load time), so the Snowflake build starts from the same raw rows
as the DuckDB one.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from decimal import Decimal
from pathlib import Path

import duckdb

REPO_ROOT = Path(__file__).resolve().parents[1]
DATABASE = "FINOPS"
BATCH_ROWS = 500

# DuckDB types the raw tables use, as Snowflake types. dlt writes timestamps as TIMESTAMP_TZ on Snowflake.
SNOWFLAKE_TYPES = {
    "VARCHAR": "varchar",
    "BIGINT": "bigint",
    "INTEGER": "bigint",
    "DOUBLE": "double",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP WITH TIME ZONE": "timestamp_tz",
    "TIMESTAMP": "timestamp_ntz",
}


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fakesnow_command() -> list[str]:
    """The fakesnow CLI of this interpreter's environment."""
    beside = Path(sys.executable).with_name("fakesnow")
    return [str(beside)] if beside.exists() else [shutil.which("fakesnow") or "fakesnow"]


@contextmanager
def fakesnow_server(db_dir: Path, port: int | None = None) -> Iterator[int]:
    """Run `fakesnow -s` on a free port with its databases in `db_dir`; yields the port."""
    port = port or free_port()
    log = (db_dir.parent / "fakesnow.log").open("w")
    process = subprocess.Popen(
        [*fakesnow_command(), "-s", "-p", str(port), "-d", str(db_dir)], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"fakesnow exited with {process.returncode}; see {log.name}")
            with closing(socket.socket()) as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"fakesnow did not listen on port {port} within 60 s; see {log.name}")
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def connect(port: int, database: str = DATABASE):
    """A Snowflake connector session on the fakesnow server, with the credentials of the fakesnow target."""
    import snowflake.connector

    return snowflake.connector.connect(
        account="fakesnow",
        user="fake",
        password="snow",
        host="localhost",
        port=port,
        protocol="http",
        database=database,
    )


def raw_tables(duckdb_path: Path) -> list[tuple[str, str]]:
    """(schema, table) of every raw table the loaders wrote, without dlt's own bookkeeping tables."""
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        return con.sql(
            """
            select table_schema, table_name
            from information_schema.tables
            where
                (table_schema like 'raw\\_%' escape '\\' and table_schema not like '%\\_staging' escape '\\')
                and table_name not like '\\_dlt\\_%' escape '\\'
                and table_type = 'BASE TABLE'
            order by all
            """
        ).fetchall()


def copy_raw_tables(duckdb_path: Path, port: int, database: str = DATABASE) -> dict[str, int]:
    """Create every raw table of the DuckDB warehouse in fakesnow and copy its rows; returns rows per table."""
    copied = {}
    with duckdb.connect(str(duckdb_path), read_only=True) as source, closing(connect(port, database)) as target:
        cursor = target.cursor()
        cursor.execute(f"create database if not exists {database}")
        for schema, table in raw_tables(duckdb_path):
            columns = source.sql(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = ? and table_name = ? order by ordinal_position",
                params=[schema, table],
            ).fetchall()
            unknown = [f"{name} {kind}" for name, kind in columns if kind not in SNOWFLAKE_TYPES]
            if unknown:
                raise ValueError(f"{schema}.{table}: no Snowflake type for {', '.join(unknown)}")
            cursor.execute(f"create schema if not exists {database}.{schema}")
            definition = ", ".join(f"{name} {SNOWFLAKE_TYPES[kind]}" for name, kind in columns)
            cursor.execute(f"create or replace table {database}.{schema}.{table} ({definition})")
            names = ", ".join(name for name, _ in columns)
            placeholders = ", ".join(["%s"] * len(columns))
            rows = source.sql(f'select * from "{schema}"."{table}"').fetchall()
            for start in range(0, len(rows), BATCH_ROWS):
                cursor.executemany(
                    f"insert into {database}.{schema}.{table} ({names}) values ({placeholders})",
                    [tuple(_value(value) for value in row) for row in rows[start : start + BATCH_ROWS]],
                )
            copied[f"{schema}.{table}"] = len(rows)
    return copied


def _value(value: object) -> object:
    # The connector binds aware datetimes as TIMESTAMP_LTZ text that fakesnow reads back; ISO text is exact.
    return value.isoformat() if hasattr(value, "isoformat") else value


FOCUS_ROWS_SQL = """
    select
        ProviderName,
        cast(BillingPeriodStart as date) as billing_period,
        BillingCurrency,
        BilledCost,
        EffectiveCost,
        ListCost,
        x_BilledCostInReportingCurrency
    from {relation}
"""


def focus_totals_duckdb(duckdb_path: Path) -> dict[tuple, list]:
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        return _totals(con.sql(FOCUS_ROWS_SQL.format(relation="marts.focus_costs")).fetchall())


def focus_totals_snowflake(port: int, database: str = DATABASE) -> dict[tuple, list]:
    with closing(connect(port, database)) as con:
        cursor = con.cursor()
        cursor.execute(FOCUS_ROWS_SQL.format(relation=f"{database}.marts.focus_costs"))
        return _totals(cursor.fetchall())


def _totals(rows: list[tuple]) -> dict[tuple, list]:
    """Row count and exact sums of the amounts per provider, billing period and currency.

    Summed here rather than in SQL because fakesnow's SUM of a NUMBER column is a float; every value it
    returns is the exact decimal.
    """
    totals: dict[tuple, list] = {}
    for provider, period, currency, *amounts in rows:
        key = (provider, str(period), currency)
        total = totals.setdefault(key, [0, *[Decimal(0)] * len(amounts)])
        total[0] += 1
        for index, amount in enumerate(amounts, start=1):
            total[index] += Decimal(0) if amount is None else Decimal(str(amount))
    return totals
