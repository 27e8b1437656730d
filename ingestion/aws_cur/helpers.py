"""Find AWS CUR deliveries (legacy CSV with manifests, plain CSV folders, CUR 2.0 Parquet) and read them."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import duckdb

from ingestion.delivery import DeliverySpec
from ingestion.duck import (
    check_amount_types,
    csv_header,
    first_line,
    json_object_of_columns,
    literal,
    quote,
    read_csv_into_src,
    read_table_into_src,
    snake_case,
    snake_case_names,
    value_as_text,
)
from ingestion.errors import LoadError
from ingestion.files import ExportFile, list_files, local_copies, read_text

CUR_PATTERNS = ("*.csv", "*.csv.gz", "*.parquet", "*-manifest.json")
LEGACY_REQUIRED = (
    "bill/PayerAccountId",
    "bill/BillingPeriodStartDate",
    "lineItem/LineItemType",
    "lineItem/UsageStartDate",
    "lineItem/UnblendedCost",
)
CUR2_REQUIRED = tuple(snake_case(c) for c in LEGACY_REQUIRED)
# Columns that make a file AWS's FOCUS 1.0 data export rather than a CUR.
FOCUS_MARKERS = {"BilledCost", "EffectiveCost", "ChargePeriodStart", "BillingAccountId", "BillingPeriodStart"}
FOCUS_REQUIRED = ("billed_cost", "billing_account_id", "billing_period_start", "charge_period_start", "charge_category")
FOCUS_NUMERIC_COLUMNS = ("billed_cost", "effective_cost", "list_cost", "contracted_cost", "consumed_quantity")
# Amounts that must be numbers; a row where one is not is rejected, not loaded as null.
NUMERIC_COLUMNS = (
    "line_item_unblended_cost",
    "line_item_usage_amount",
    "line_item_net_unblended_cost",
    "reservation_effective_cost",
    "savings_plan_savings_plan_effective_cost",
)


@dataclass
class CurDelivery:
    """One delivery: the files AWS wrote for one report version of one billing period."""

    layout: str
    delivery_id: str
    files: list[ExportFile]
    superseded: list[ExportFile] = field(default_factory=list)
    # CUR 2.0 manifests say when the execution was delivered. Legacy manifests do not, and then the
    # delivery's files tell: S3's LastModified, or the mtime a sync from S3 gives the local copy.
    manifest_delivered_at: str | None = None

    @property
    def delivered_at(self) -> str:
        return self.manifest_delivered_at or max(f.modified_at for f in self.files)


def discover(location: str) -> list[CurDelivery]:
    """Group the files under `location` into deliveries, keeping only the assembly each manifest names."""
    files = list_files(location, CUR_PATTERNS)
    if not files:
        raise LoadError(f"{location}: no CUR files (*.csv, *.csv.gz, *.parquet) found")
    manifests = [f for f in files if f.name.lower().endswith("-manifest.json")]
    data_files = [f for f in files if f not in manifests]
    deliveries: list[CurDelivery] = []
    claimed: set[str] = set()
    with local_copies(manifests) as local:
        for manifest in manifests:
            delivery = _delivery_from_manifest(manifest, json.loads(read_text(manifest, local)), data_files)
            if delivery is not None:
                deliveries.append(delivery)
                claimed.update(f.relative_path for f in delivery.files)
    # Folders a manifest governs: its own (legacy assemblies sit under it) and, for CUR 2.0, the matching
    # data/ folder. Files there that the manifest does not name belong to a superseded delivery.
    managed_dirs = {_period_dir(m) for m in manifests} | {
        _period_dir(m).replace("metadata", "data", 1) for m in manifests
    }
    loose: dict[str, list[ExportFile]] = defaultdict(list)
    for f in data_files:
        if f.relative_path in claimed:
            continue
        if _period_dir(f, depth=2) in managed_dirs or _period_dir(f) in managed_dirs:
            # An assembly the manifest no longer names: AWS's older version of that billing period.
            _attach_superseded(deliveries, f)
            continue
        loose[f.parent].append(f)
    for folder, group in sorted(loose.items()):
        layout = "cur2" if group[0].name.endswith(".parquet") else "cur_legacy"
        deliveries.append(CurDelivery(layout, f"folder:{folder}", sorted(group, key=lambda f: f.name)))
    return [_with_detected_layout(d) for d in deliveries]


def _with_detected_layout(delivery: CurDelivery) -> CurDelivery:
    """AWS's FOCUS 1.0 export arrives in the CUR 2.0 folder layout; its columns tell it apart."""
    with local_copies(delivery.files[:1]) as local:
        path = local[delivery.files[0].uri]
        try:
            names = csv_header(path) if not path.name.endswith(".parquet") else _parquet_columns(path)
        except LoadError:
            return delivery  # the delivery's own check reports the unreadable file
    if set(names) >= FOCUS_MARKERS:
        delivery.layout = "focus_1_0"
    return delivery


def _parquet_columns(path: Path) -> list[str]:
    with duckdb.connect() as con:
        try:
            return con.sql(
                f"select * from read_parquet({literal(str(path))}, hive_partitioning = false) limit 0"
            ).columns
        except duckdb.Error as exc:
            raise LoadError(f"{path}: cannot read as Parquet: {first_line(exc)}") from exc


def _period_dir(f: ExportFile, depth: int = 1) -> str:
    path = PurePosixPath(f.relative_path)
    for _ in range(depth):
        path = path.parent
    return str(path)


def _attach_superseded(deliveries: list[CurDelivery], f: ExportFile) -> None:
    for delivery in deliveries:
        folders = {_period_dir(kept, depth) for kept in delivery.files for depth in (1, 2)}
        if _period_dir(f) in folders or _period_dir(f, depth=2) in folders:
            delivery.superseded.append(f)
            return


def _delivery_from_manifest(manifest: ExportFile, body: dict, data_files: list[ExportFile]) -> CurDelivery | None:
    by_name = {f.relative_path: f for f in data_files}
    base = PurePosixPath(manifest.relative_path).parent
    if "assemblyId" in body:
        # Legacy CUR: report keys are bucket keys ending in <assemblyId>/<file>; resolve them next to the
        # manifest, which is where AWS puts the assembly folders.
        keys = [PurePosixPath(k) for k in body.get("reportKeys", [])]
        wanted = [str(base / body["assemblyId"] / k.name) for k in keys]
        layout, delivery_id, delivered_at = "cur_legacy", body["assemblyId"], None
    elif "executionId" in body:
        # CUR 2.0 (Data Exports): metadata/BILLING_PERIOD=X/<manifest> lists data/BILLING_PERIOD=X/<file>.
        keys = [PurePosixPath(k) for k in body.get("dataFiles", [])]
        data_base = PurePosixPath(str(base).replace("metadata", "data", 1))
        wanted = [str(data_base / k.name) for k in keys]
        layout, delivery_id = "cur2", body["executionId"]
        delivered_at = body.get("deliveryTime")
    else:
        raise LoadError(f"{manifest.uri}: manifest has neither assemblyId nor executionId")
    missing = [w for w in wanted if w not in by_name]
    if missing:
        raise LoadError(f"{manifest.uri}: manifest names files that are not there: {', '.join(missing[:3])}")
    if not wanted:
        return None
    return CurDelivery(layout, delivery_id, [by_name[w] for w in wanted], manifest_delivered_at=delivered_at)


def spec_for(layout: str) -> DeliverySpec:
    """How to read and check the files of a legacy CUR, CUR 2.0 or FOCUS 1.0 export delivery."""
    if layout == "focus_1_0":
        return DeliverySpec(
            check=_check_focus,
            reader=_focus_select,
            partition_sql="billing_account_id || '|' || left(billing_period_start, 7)",
            numeric_columns=FOCUS_NUMERIC_COLUMNS,
            lineage={"_layout": layout},
        )
    legacy = layout == "cur_legacy"
    return DeliverySpec(
        check=_check_legacy if legacy else _check_cur2,
        reader=_legacy_select if legacy else _cur2_select,
        partition_sql="bill_payer_account_id || '|' || left(bill_billing_period_start_date, 7)",
        numeric_columns=NUMERIC_COLUMNS,
        lineage={"_layout": layout},
    )


def _check_focus(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    names = _parquet_columns(path) if path.name.endswith(".parquet") else csv_header(path)
    _require(path, [snake_case(n) for n in names], FOCUS_REQUIRED)


def _focus_select(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    """FOCUS columns as snake_case text; the literal NULL some FOCUS files write is a null."""
    columns, kinds = read_table_into_src(con, path)
    renamed = snake_case_names(path, columns)
    _require(path, list(renamed), FOCUS_REQUIRED)
    parts = [f"nullif({value_as_text(quote(src), kinds[src])}, 'NULL') as {quote(dst)}" for dst, src in renamed.items()]
    parts.append("_line_number")
    return ", ".join(parts)


def _check_legacy(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    _require(path, csv_header(path), LEGACY_REQUIRED)


def _check_cur2(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    try:
        columns = con.sql(
            f"select * from read_parquet({literal(str(path))}, hive_partitioning = false) limit 0"
        ).columns
    except duckdb.Error as exc:
        raise LoadError(f"{path}: cannot read as Parquet: {first_line(exc)}") from exc
    _require(path, columns, CUR2_REQUIRED)
    check_amount_types(con, path, NUMERIC_COLUMNS)


def _legacy_select(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    columns = read_csv_into_src(con, path)
    _require(path, list(columns), LEGACY_REQUIRED)
    plain, product, tags = {}, {}, {}
    for name, column in columns.items():
        category, _, attribute = name.partition("/")
        if category == "product" and attribute:
            product[snake_case(attribute)] = column
        elif category == "resourceTags" and attribute:
            tags[attribute] = column
        else:
            plain[name] = column
    renamed = snake_case_names(path, plain)
    parts = [f"{quote(column)} as {quote(target)}" for target, column in renamed.items()]
    parts.append(f"{json_object_of_columns(product)} as product")
    parts.append(f"{json_object_of_columns(tags)} as resource_tags")
    parts.append("_line_number")
    return ", ".join(parts)


def _cur2_select(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    con.execute(
        f"create or replace temp view src as select *, row_number() over () as _line_number "
        f"from read_parquet({literal(str(path))}, hive_partitioning = false)"
    )
    described = con.sql("select * from src limit 0")
    types = dict(zip(described.columns, [str(t) for t in described.types], strict=True))
    _require(path, list(types), CUR2_REQUIRED)
    static_product = {c.removeprefix("product_"): c for c in types if c.startswith("product_")}
    parts = []
    for col, kind in types.items():
        if col == "_line_number" or col in static_product.values():
            continue
        name = col.replace("_a_r_n", "_arn")
        parts.append(f"{value_as_text(quote(col), kind)} as {quote(name)}")
    static = ", ".join(f"{literal(k)}: cast({quote(c)} as varchar)" for k, c in static_product.items())
    product_map = "product" if "product" in types else "map()"
    if static:
        product_map = f"map_concat({product_map}, map {{{static}}})"
    parts = [p for p in parts if not p.endswith(' as "product"')]
    non_null = f"map_from_entries(list_filter(map_entries({product_map}), lambda e: e.value is not null))"
    parts.append(f"nullif(to_json({non_null}), '{{}}') as product")
    parts.append("_line_number")
    return ", ".join(parts)


def _require(path: Path, columns: list[str], required: tuple[str, ...]) -> None:
    missing = [c for c in required if c not in columns]
    if missing:
        raise LoadError(f"{path}: not an AWS CUR file; missing required columns: {', '.join(missing)}")
