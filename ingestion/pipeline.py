"""Run one loader into the warehouse: discover deliveries, hand them to dlt, log what happened per file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import dlt
from dlt.pipeline.exceptions import PipelineStepFailed

from ingestion.aws_api import Backoff, ClientFactory, client_factory
from ingestion.delivery import LoadState
from ingestion.destination import warehouse_destination
from ingestion.errors import LoadError
from ingestion.events.api import is_http
from ingestion.ledger import SUPERSEDED, FileOutcome, Ledger

DATASETS = {
    "aws-cur": "raw_aws_cur",
    "azure": "raw_azure_cost",
    "gcp": "raw_gcp_billing",
    "events": "raw_events",
    "fx": "raw_fx",
    "anomaly-labels": "raw_labels",
    "utilisation": "raw_utilisation",
    "aws-cloudwatch": "raw_aws_cloudwatch",
    "aws-cost-explorer": "raw_aws_cost_explorer",
}
RAW_TABLES = {
    "aws-cur": "line_items",
    "azure": "cost_details",
    "gcp": "billing_export",
    "events": "business_events",
    "fx": "rates",
    "anomaly-labels": "anomaly_labels",
    "utilisation": "metrics",
    "aws-cloudwatch": "metrics",
    "aws-cost-explorer": "costs",
}
# Sources read from an AWS API for a window of days rather than from files.
API_SOURCES = ("aws-cloudwatch", "aws-cost-explorer")


@dataclass(frozen=True)
class ApiRequest:
    """What an API source reads: days `start` (inclusive) to `end` (exclusive), and how to call AWS.

    Attributes:
        start: First day.
        end: Day after the last one.
        granularity: Cost Explorer only: DAILY or HOURLY.
        tag_keys: Cost Explorer only: tag keys to group by as well.
        clients: service name -> boto3 client; tests pass moto-backed or stubbed ones.
        backoff: Retry policy on throttling (its sleep is injectable).
    """

    start: date
    end: date
    granularity: str = "DAILY"
    tag_keys: tuple[str, ...] = ()
    clients: ClientFactory | None = None
    backoff: Backoff = field(default_factory=Backoff)


@dataclass
class LoadReport:
    """What one `finops load` did."""

    source: str
    location: str
    deliveries: list[str] = field(default_factory=list)
    rows_loaded: dict[str, int] = field(default_factory=dict)
    files: list[FileOutcome] = field(default_factory=list)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    @property
    def superseded_files(self) -> list[str]:
        return [f.file for f in self.files if f.status == SUPERSEDED]


def pipelines_dir(warehouse: Path) -> Path:
    """dlt's working state for a warehouse lives beside the warehouse file."""
    return warehouse.parent / ".dlt_pipelines" / warehouse.stem


def make_pipeline(source: str, warehouse: Path) -> dlt.Pipeline:
    """A dlt pipeline writing into the warehouse: the DuckDB file, or Snowflake (`ingestion.destination`)."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    return dlt.pipeline(
        pipeline_name=f"finops_{source.replace('-', '_')}",
        destination=warehouse_destination(warehouse),
        dataset_name=DATASETS[source],
        pipelines_dir=str(pipelines_dir(warehouse)),
    )


def run_load(
    source: str,
    location: str,
    warehouse: Path,
    on_step: Callable[[str], None] | None = None,
    api: ApiRequest | None = None,
) -> LoadReport:
    """Load the exports at `location` (folder, file or bucket prefix) for `source` into `warehouse`.

    API sources (`API_SOURCES`) read the window in `api` instead; `location` only names it in messages.

    Every file looked at is logged in `meta.load_log` and every row not loaded in `meta.rejected_rows`,
    whether the load succeeds or not.
    """
    if source not in DATASETS:
        raise LoadError(f"unknown source {source!r}; expected one of: {', '.join(DATASETS)}")
    step = on_step or (lambda _message: None)
    started = datetime.now(UTC)
    loaded_at = started.strftime("%Y-%m-%d %H:%M:%S.%f")
    ledger = Ledger(source, load_id=f"{source}:{started:%Y%m%dT%H%M%S.%fZ}")
    report = LoadReport(source, location, files=ledger.files)
    pipeline = make_pipeline(source, warehouse)
    step(f"discovering {source} deliveries in {location}")
    state = _load_state(pipeline, source, loaded_at)
    dlt_source = _build_source(source, location, report, ledger, state, warehouse, api)
    step(f"loading {len(report.deliveries)} delivery(ies) into {DATASETS[source]}")
    try:
        pipeline.run(dlt_source, loader_file_format="parquet")
    except PipelineStepFailed as exc:
        error = _user_error(exc)
        for outcome in ledger.files:
            if outcome.finished_at is None:
                outcome.finish("failed", str(error))
        ledger.write(warehouse, pipelines_dir(warehouse))
        raise error from exc
    ledger.write(warehouse, pipelines_dir(warehouse))
    counts = pipeline.last_trace.last_normalize_info.row_counts if pipeline.last_trace else {}
    report.rows_loaded = {t: n for t, n in counts.items() if not t.startswith("_dlt")}
    return report


def _load_state(pipeline: dlt.Pipeline, source: str, loaded_at: str) -> LoadState:
    """What the raw table holds now: the files whose rows are current, and each period's delivery time."""
    table = f"{DATASETS[source]}.{RAW_TABLES[source]}"
    hashes = _query(pipeline, f"select distinct _content_hash from {table}")
    delivered = _query(pipeline, f"select _billing_partition, max(_delivered_at) from {table} group by 1")
    return LoadState(
        loaded_at=loaded_at,
        current_hashes=frozenset(h for (h,) in hashes if h),
        delivered_at_by_partition={p: d for p, d in delivered if p and d},
    )


def _query(pipeline: dlt.Pipeline, sql: str) -> list[tuple]:
    """Rows of `sql` on the destination; none when the table or column does not exist yet."""
    try:
        with pipeline.sql_client() as client:
            return list(client.execute_sql(sql) or [])
    except Exception:
        return []


def _build_source(
    source: str,
    location: str,
    report: LoadReport,
    ledger: Ledger,
    state: LoadState,
    warehouse: Path,
    api: ApiRequest | None = None,
) -> dlt.sources.DltSource:
    if source in API_SOURCES:
        return _api_source(source, location, report, ledger, state, api)
    if source == "utilisation":
        from ingestion.utilisation import utilisation_source
        from ingestion.utilisation.helpers import discover as discover_utilisation

        files = discover_utilisation(location)
        report.deliveries = [f.relative_path for f in files]
        return utilisation_source(files, state.loaded_at, ledger)
    if source == "fx":
        from ingestion.fx_rates import fx_rates_source
        from ingestion.fx_rates.helpers import discover as discover_rates

        files = discover_rates(location)
        report.deliveries = [f.relative_path for f in files]
        return fx_rates_source(files, state.loaded_at, ledger)
    if source == "anomaly-labels":
        from ingestion.anomaly_labels import anomaly_labels_source
        from ingestion.anomaly_labels.helpers import discover as discover_labels

        files = discover_labels(location)
        report.deliveries = [f.relative_path for f in files]
        return anomaly_labels_source(files, state.loaded_at, ledger)
    if source == "events" and is_http(location):
        from ingestion.events import business_events_api_source

        report.deliveries = [location]
        return business_events_api_source(location, state.loaded_at, warehouse.parent / ".secrets", ledger)
    if source == "events":
        from ingestion.events import business_events_source
        from ingestion.events.helpers import discover as discover_events

        files = discover_events(location)
        report.deliveries = [f.relative_path for f in files]
        # The pseudonymisation key lives beside the warehouse: one warehouse, one stable set of pseudonyms.
        return business_events_source(files, state.loaded_at, warehouse.parent / ".secrets", ledger)
    deliveries, make_source = _provider(source, location)
    # Newest first: when two deliveries of one period meet in one load, the newer one is the one kept.
    deliveries.sort(key=lambda d: d.delivered_at or "", reverse=True)
    report.deliveries = [d.delivery_id for d in deliveries]
    for delivery in deliveries:
        for f in delivery.superseded:
            ledger.open_file(f.uri, delivery.delivery_id).finish(SUPERSEDED, "an older delivery of the same period")
    return make_source(deliveries, ledger, state)


def _api_source(
    source: str, location: str, report: LoadReport, ledger: Ledger, state: LoadState, api: ApiRequest | None
) -> dlt.sources.DltSource:
    if api is None:
        raise LoadError(f"{source} reads an AWS API: give the days to read (--start and --end)")
    clients = api.clients or client_factory()
    report.deliveries = [location]
    if source == "aws-cloudwatch":
        from ingestion.aws_cloudwatch import aws_cloudwatch_source
        from ingestion.aws_cloudwatch.helpers import MetricWindow

        return aws_cloudwatch_source(MetricWindow(api.start, api.end), clients, api.backoff, state.loaded_at, ledger)
    from ingestion.aws_cost_explorer import aws_cost_explorer_source
    from ingestion.aws_cost_explorer.helpers import CostWindow

    window = CostWindow(api.start, api.end, api.granularity, api.tag_keys)
    return aws_cost_explorer_source(window, clients, api.backoff, state.loaded_at, ledger)


def _provider(source: str, location: str) -> tuple[list, Callable]:
    if source == "aws-cur":
        from ingestion.aws_cur import aws_cur_source
        from ingestion.aws_cur.helpers import discover

        return discover(location), aws_cur_source
    if source == "azure":
        from ingestion.azure_cost import azure_cost_source
        from ingestion.azure_cost.helpers import discover

        return discover(location), azure_cost_source
    from ingestion.gcp_billing import gcp_billing_source
    from ingestion.gcp_billing.helpers import discover

    return discover(location), gcp_billing_source


def _user_error(exc: Exception) -> Exception:
    """dlt wraps errors raised inside a resource; surface ours unchanged so the CLI prints one line."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, LoadError):
            return cause
        cause = cause.__cause__ or cause.__context__
    return exc
