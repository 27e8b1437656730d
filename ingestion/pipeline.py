"""Run one loader into the warehouse: discover deliveries, hand them to dlt, report what landed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dlt
from dlt.pipeline.exceptions import PipelineStepFailed

from ingestion.errors import LoadError

DATASETS = {
    "aws-cur": "raw_aws_cur",
    "azure": "raw_azure_cost",
    "gcp": "raw_gcp_billing",
    "events": "raw_events",
}


@dataclass
class LoadReport:
    """What one `finops load` did."""

    source: str
    location: str
    deliveries: list[str] = field(default_factory=list)
    superseded_files: list[str] = field(default_factory=list)
    rows_loaded: dict[str, int] = field(default_factory=dict)


def make_pipeline(source: str, warehouse: Path) -> dlt.Pipeline:
    """A dlt pipeline writing into the DuckDB warehouse file; its state lives beside that file."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    return dlt.pipeline(
        pipeline_name=f"finops_{source.replace('-', '_')}",
        destination=dlt.destinations.duckdb(credentials=str(warehouse)),
        dataset_name=DATASETS[source],
        pipelines_dir=str(warehouse.parent / ".dlt_pipelines" / warehouse.stem),
    )


def run_load(source: str, location: str, warehouse: Path, on_step: Callable[[str], None] | None = None) -> LoadReport:
    """Load the exports at `location` (folder, file or bucket prefix) for `source` into `warehouse`."""
    step = on_step or (lambda _message: None)
    loaded_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    report = LoadReport(source, location)
    step(f"discovering {source} deliveries in {location}")
    dlt_source = _build_source(source, location, loaded_at, report, warehouse)
    pipeline = make_pipeline(source, warehouse)
    step(f"loading {len(report.deliveries)} delivery(ies) into {DATASETS[source]}")
    try:
        pipeline.run(dlt_source, loader_file_format="parquet")
    except PipelineStepFailed as exc:
        raise _user_error(exc) from exc
    counts = pipeline.last_trace.last_normalize_info.row_counts if pipeline.last_trace else {}
    report.rows_loaded = {t: n for t, n in counts.items() if not t.startswith("_dlt")}
    return report


def _build_source(
    source: str, location: str, loaded_at: str, report: LoadReport, warehouse: Path
) -> dlt.sources.DltSource:
    if source == "aws-cur":
        from ingestion.aws_cur import aws_cur_source
        from ingestion.aws_cur.helpers import discover

        deliveries = discover(location)
        report.deliveries = [f"{d.layout}:{d.delivery_id}" for d in deliveries]
        report.superseded_files = [f.uri for d in deliveries for f in d.superseded]
        return aws_cur_source(deliveries, loaded_at)
    if source == "azure":
        from ingestion.azure_cost import azure_cost_source
        from ingestion.azure_cost.helpers import discover

        deliveries = discover(location)
        report.deliveries = [f"{d.dataset}:{d.delivery_id}" for d in deliveries]
        report.superseded_files = [f.uri for d in deliveries for f in d.superseded]
        return azure_cost_source(deliveries, loaded_at)
    if source == "gcp":
        from ingestion.gcp_billing import gcp_billing_source
        from ingestion.gcp_billing.helpers import discover

        deliveries = discover(location)
        report.deliveries = [d.delivery_id for d in deliveries]
        report.superseded_files = [f.uri for d in deliveries for f in d.superseded]
        return gcp_billing_source(deliveries, loaded_at)
    if source == "events":
        from ingestion.events import business_events_source
        from ingestion.events.helpers import discover

        files = discover(location)
        report.deliveries = [f.relative_path for f in files]
        # The pseudonymisation key lives beside the warehouse: one warehouse, one stable set of pseudonyms.
        return business_events_source(files, loaded_at, warehouse.parent / ".secrets")
    raise LoadError(f"unknown source {source!r}; expected one of: {', '.join(DATASETS)}")


def _user_error(exc: Exception) -> Exception:
    """dlt wraps errors raised inside a resource; surface ours unchanged so the CLI prints one line."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, LoadError):
            return cause
        cause = cause.__cause__ or cause.__context__
    return exc
