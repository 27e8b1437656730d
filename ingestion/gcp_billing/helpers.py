"""Find GCP billing export extracts (BigQuery schema as JSON lines or Parquet) and read them.

A BigQuery extract of one invoice month is sharded as `<extract>-000000000000.json`, `...-000000000001`;
the extract name before the shard number identifies a delivery. Within one folder, the extract whose name
sorts last (name it by export time) supersedes the others: that is how a re-extract of a restated invoice
month replaces the earlier one.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ingestion.delivery import DeliverySpec
from ingestion.duck import first_line, flattened_text_columns, literal, read_json_lines_into_src
from ingestion.errors import LoadError
from ingestion.files import ExportFile, list_files

GCP_PATTERNS = ("*.json", "*.jsonl", "*.ndjson", "*.json.gz", "*.jsonl.gz", "*.parquet")
REQUIRED = ("billing_account_id", "cost", "usage_start_time", "invoice_month", "cost_type", "currency")
_SHARD_SUFFIX = re.compile(r"-\d{12}$")


@dataclass
class GcpDelivery:
    """One extract: all shards of one export of the billing table."""

    delivery_id: str
    files: list[ExportFile]
    superseded: list[ExportFile] = field(default_factory=list)

    @property
    def delivered_at(self) -> str | None:
        return export_time(self.delivery_id)


_EXPORT_TIME = re.compile(r"^\d{8}(T\d{6}Z?)?$")


def export_time(delivery_id: str) -> str | None:
    """The export time an extract is named by (`20261101T070348Z`), which orders extracts of one month.

    None for any other name: then nothing says which extract is newer, and the last one loaded wins.
    """
    name = delivery_id.rsplit("/", 1)[-1]
    return name if _EXPORT_TIME.match(name) else None


def extract_name(f: ExportFile) -> str:
    stem = f.name.split(".")[0]
    return _SHARD_SUFFIX.sub("", stem)


def discover(location: str) -> list[GcpDelivery]:
    files = list_files(location, GCP_PATTERNS)
    if not files:
        raise LoadError(f"{location}: no GCP billing export files (*.json, *.jsonl, *.parquet) found")
    by_folder: dict[str, dict[str, list[ExportFile]]] = defaultdict(lambda: defaultdict(list))
    for f in files:
        by_folder[f.parent][extract_name(f)].append(f)
    deliveries = []
    for folder, extracts in sorted(by_folder.items()):
        names = sorted(extracts)
        current = names[-1]
        older = [f for name in names[:-1] for f in extracts[name]]
        deliveries.append(GcpDelivery(f"{folder}/{current}", sorted(extracts[current], key=lambda f: f.name), older))
    return deliveries


SPEC_NUMERIC_COLUMNS = ("cost", "cost_at_list", "usage_amount", "usage_amount_in_pricing_units")


def delivery_spec() -> DeliverySpec:
    """How to read and check the files of a billing-export extract."""
    return DeliverySpec(
        check=_check,
        reader=_read,
        partition_sql="billing_account_id || '|' || invoice_month",
        numeric_columns=SPEC_NUMERIC_COLUMNS,
        lineage={},
    )


def _check(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    try:
        con.execute(f"create or replace temp view peek as {_reader_sql(path, sample_all=False)}")
        columns = flattened_text_columns(con, "peek")
    except duckdb.Error as exc:
        raise LoadError(f"{path}: cannot read as a billing export: {first_line(exc)}") from exc
    _require(path, columns)


def _read(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    """One level of records flattened, lists kept as JSON, values as text."""
    try:
        if path.name.lower().endswith(".parquet"):
            con.execute(f"create or replace temp table src as {_reader_sql(path)}")
        else:
            read_json_lines_into_src(con, path)
    except duckdb.Error as exc:
        raise LoadError(f"{path}: cannot read as a billing export: {first_line(exc)}") from exc
    columns = flattened_text_columns(con, "src")
    _require(path, columns)
    return ", ".join([*columns, "_line_number"])


def _reader_sql(path: Path, sample_all: bool = True) -> str:
    if path.name.lower().endswith(".parquet"):
        reader = f"read_parquet({literal(str(path))}, hive_partitioning = false)"
    else:
        # Every record decides the schema (sample_size = -1): a field that first appears late in the file,
        # such as adjustment_info, must not be dropped. The quick check before loading samples only.
        # The quick check skips bad lines: the full read rejects them one by one.
        options = "sample_size = -1" if sample_all else "sample_size = 2048, ignore_errors = true"
        reader = f"read_json({literal(str(path))}, format = 'newline_delimited', hive_partitioning = false, {options})"
    return f"select *, row_number() over () as _line_number from {reader}"


def _require(path: Path, select_parts: list[str]) -> None:
    names = {part.rsplit(" as ", 1)[-1].strip('"') for part in select_parts}
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise LoadError(f"{path}: not a GCP billing export; missing required fields: {', '.join(missing)}")
