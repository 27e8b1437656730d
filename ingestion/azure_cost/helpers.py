"""Find Azure Cost Management exports (EA or MCA cost details; actual or amortized) and read them."""

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
    literal,
    quote,
    read_table_into_src,
    snake_case_names,
    value_as_text,
)
from ingestion.errors import LoadError
from ingestion.files import ExportFile, list_files, local_copies, read_text

AZURE_PATTERNS = ("*.csv", "*.csv.gz", "*.parquet", "manifest.json")
# Any one of these names the row's cost; EA files say `Cost`, MCA files `costInBillingCurrency`.
COST_COLUMNS = ("cost_in_billing_currency", "cost", "pre_tax_cost")
# Amounts that must be numbers; a row where one is not is rejected, not loaded as null.
NUMERIC_COLUMNS = (
    *COST_COLUMNS,
    "quantity",
    "cost_in_usd",
    "cost_in_pricing_currency",
    "payg_cost_in_billing_currency",
)
REQUIRED = ("billing_account_id", "date", "billing_period_start_date", "subscription_id")
EXPORT_TYPES = {"actualcost": "actual", "amortizedcost": "amortized", "usage": "actual"}


@dataclass
class AzureDelivery:
    """One export run: the files of one export (actual or amortized) for one date range."""

    dataset: str
    delivery_id: str
    files: list[ExportFile]
    superseded: list[ExportFile] = field(default_factory=list)
    delivered_at: str | None = None  # the run's submittedTime: orders runs of the same scope and period
    scope: str = ""  # the export's scope (billing account, profile or subscription), from its manifest


@dataclass
class _ExportRun:
    export: str
    dataset: str
    scope: str
    period_dir: str
    submitted: str
    run_id: str
    files: list[ExportFile]


def export_scope(resource_id: str) -> str:
    """The scope an export covers, from its resource id (the part before `/providers/...CostManagement/exports`)."""
    lowered = resource_id.lower()
    marker = lowered.find("/providers/microsoft.costmanagement/exports")
    return lowered[:marker] if marker >= 0 else lowered


def discover(location: str, dataset: str | None = None) -> list[AzureDelivery]:
    """Group files into export runs; for each export and date range keep the newest run only.

    Files without a run manifest (older exports, downloads from the portal) are each a delivery of their
    own, named by content hash; their dataset comes from the file name unless `dataset` is given.
    """
    files = list_files(location, AZURE_PATTERNS)
    data_files = [f for f in files if f.name != "manifest.json"]
    if not data_files:
        raise LoadError(f"{location}: no Azure cost export files (*.csv, *.csv.gz, *.parquet) found")
    runs = _runs_from_manifests([f for f in files if f.name == "manifest.json"], data_files)
    newest: dict[tuple[str, str], _ExportRun] = {}
    superseded: dict[tuple[str, str], list[ExportFile]] = defaultdict(list)
    for run in sorted(runs, key=lambda r: (r.submitted, r.run_id)):
        # Two exports of one scope and dataset (a daily month-to-date one and a monthly closed-month one)
        # deliver the same charges: only the newest run of that scope, dataset and period is current.
        key = (run.dataset, run.scope or run.export, run.period_dir)
        if key in newest:
            superseded[key].extend(newest[key].files)
        newest[key] = run
    deliveries = [
        AzureDelivery(dataset or run.dataset, run.run_id, run.files, superseded[key], run.submitted or None, run.scope)
        for key, run in newest.items()
    ]
    claimed = {f.relative_path for run in runs for f in run.files}
    for f in data_files:
        if f.relative_path not in claimed:
            kind = dataset or ("amortized" if "amortized" in f.relative_path.lower() else "actual")
            deliveries.append(AzureDelivery(kind, "", [f]))
    return deliveries


def _runs_from_manifests(manifests: list[ExportFile], data_files: list[ExportFile]) -> list[_ExportRun]:
    by_parent: dict[str, list[ExportFile]] = defaultdict(list)
    for f in data_files:
        by_parent[f.parent].append(f)
    runs = []
    with local_copies(manifests) as local:
        for manifest in manifests:
            body = json.loads(read_text(manifest, local))
            config, run_info = body.get("exportConfig", {}), body.get("runInfo", {})
            kind = EXPORT_TYPES.get(str(config.get("type", "")).lower())
            if kind is None:
                raise LoadError(f"{manifest.uri}: unknown export type {config.get('type')!r}")
            run_dir = manifest.parent
            # Runs of one export for one period sit in <export>/<YYYYMMDD-YYYYMMDD>/<run id>/; wherever that
            # folder is found, the export name and the period's folder name identify the period.
            period_dir = PurePosixPath(run_dir).parent.name
            run_files = sorted(by_parent.get(run_dir, []), key=lambda f: f.name)
            if run_files:
                runs.append(
                    _ExportRun(
                        export=str(config.get("exportName", period_dir)),
                        scope=export_scope(str(config.get("resourceId", ""))),
                        dataset=kind,
                        period_dir=period_dir,
                        submitted=str(run_info.get("submittedTime", "")),
                        run_id=str(run_info.get("runId") or PurePosixPath(run_dir).name),
                        files=run_files,
                    )
                )
    return runs


_PERIOD_SQL = (
    "strftime(coalesce(try_strptime(billing_period_start_date, '%m/%d/%Y'), "
    "try_strptime(left(billing_period_start_date, 10), '%Y-%m-%d')), '%Y-%m')"
)


def spec_for(dataset: str, scope: str = "") -> DeliverySpec:
    """How to read and check the files of an actual or amortized export run.

    The scope is part of the billing partition, so exports of different subscriptions under one billing
    account each replace only their own rows.
    """
    return DeliverySpec(
        check=_check,
        reader=_select,
        partition_sql=(
            f"_dataset || '|' || billing_account_id || '|' || {_PERIOD_SQL} "
            "|| case when _export_scope <> '' then '|' || _export_scope else '' end"
        ),
        numeric_columns=NUMERIC_COLUMNS,
        lineage={"_dataset": dataset, "_export_scope": scope},
    )


def _check(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    if path.name.lower().endswith(".parquet"):
        try:
            names = con.sql(
                f"select * from read_parquet({literal(str(path))}, hive_partitioning = false) limit 0"
            ).columns
        except duckdb.Error as exc:
            raise LoadError(f"{path}: cannot read as Parquet: {first_line(exc)}") from exc
        check_amount_types(con, path, NUMERIC_COLUMNS)
    else:
        names = csv_header(path)
    _require(path, list(snake_case_names(path, dict.fromkeys(names, ""))))


def _select(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    columns, kinds = read_table_into_src(con, path)
    renamed = snake_case_names(path, columns)
    _require(path, list(renamed))
    parts = [f"{value_as_text(quote(src), kinds[src])} as {quote(dst)}" for dst, src in renamed.items()]
    parts.append("_line_number")
    return ", ".join(parts)


def _require(path: Path, columns: list[str]) -> None:
    missing = [c for c in REQUIRED if c not in columns]
    if not any(c in columns for c in COST_COLUMNS):
        missing.append(" or ".join(COST_COLUMNS))
    if missing:
        raise LoadError(f"{path}: not an Azure cost details export; missing required columns: {', '.join(missing)}")
