"""`finops`: generate demo data, load native exports, build the marts, export FOCUS, open the dashboard."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from finops_warehouse.alerts import DASHBOARD_ENV, DEFAULT_DASHBOARD_URL, WEBHOOK_ENV, alerts_command
from finops_warehouse.paths import PROJECT_DIR, WAREHOUSE_ENV, warehouse_path

if TYPE_CHECKING:
    from ingestion.pipeline import ApiRequest, LoadReport

console = Console(highlight=False)
LOAD_SOURCES = (
    "aws-cur", "azure", "gcp", "events", "fx", "anomaly-labels", "utilisation", "aws-cloudwatch", "aws-cost-explorer",
)  # fmt: skip
# Sources read from an AWS API for --start/--end rather than from a path.
API_SOURCES = ("aws-cloudwatch", "aws-cost-explorer")
# Where `finops demo` finds each provider's files inside the generated folder.
DEMO_LAYOUT = {
    "aws-cur": "aws",
    "azure": "azure",
    "gcp": "gcp",
    "events": "events",
    "anomaly-labels": "labels",
    "utilisation": "utilisation",
}


class UserError(click.ClickException):
    """Printed as one line, exit code 1, no traceback."""

    def show(self, file=None) -> None:
        console.print(f"[bold red]error:[/] {self.message}", soft_wrap=True)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors a user can act on into one clear line."""
    from finops_warehouse.dbt import DbtFailed
    from finops_warehouse.export import ExportError
    from finops_warehouse.focus_validation import FocusValidatorError
    from ingestion.errors import LoadError

    try:
        yield
    except (LoadError, DbtFailed, ExportError, FocusValidatorError, ValueError, FileNotFoundError) as exc:
        raise UserError(str(exc)) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--warehouse",
    type=click.Path(dir_okay=False),
    default=None,
    help=f"DuckDB warehouse file (env {WAREHOUSE_ENV}; default warehouse/finops.duckdb).",
)
@click.pass_context
def main(ctx: click.Context, warehouse: str | None) -> None:
    """finops-warehouse: cloud billing exports to FOCUS 1.2 marts."""
    # dlt and dbt log to stderr at INFO by default; the CLI prints its own progress instead.
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")
    logging.getLogger("dlt").setLevel(logging.ERROR)
    path = warehouse_path(warehouse)
    os.environ[WAREHOUSE_ENV] = str(path)
    ctx.obj = path


@main.command()
@click.option("--days", type=click.IntRange(7, 3660), default=90, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--scale", type=click.Choice(["small", "medium", "large"]), default="small", show_default=True)
@click.option("--out", type=click.Path(file_okay=False), default="demo_data", show_default=True)
@click.option("--skip-validation", is_flag=True, help="Do not run focus-validator on the result.")
@click.pass_obj
def demo(warehouse: Path, days: int, seed: int, scale: str, out: str, skip_validation: bool) -> None:
    """Generate demo exports, load them, build the marts and print a summary."""
    from finops_warehouse.demo import generate_demo
    from finops_warehouse.summary import (
        print_forecasts_and_anomalies,
        print_savings,
        print_summary,
        print_unit_economics,
    )

    started = time.monotonic()
    out_dir = Path(out).resolve()
    with user_errors():
        with _progress() as progress:
            task = progress.add_task("generating demo exports", total=None)

            def report(step: str, done: int, total: int) -> None:
                progress.update(task, description=f"generating {step}", completed=done, total=total)

            result = generate_demo(out_dir, days=days, seed=seed, scale=scale, progress=report)
        console.print(f"demo exports written to {result.out}")
        for source, folder in DEMO_LAYOUT.items():
            _load(source, str(out_dir / folder), warehouse)
        _build(warehouse, [])
        print_summary(console, warehouse)
        print_forecasts_and_anomalies(console, warehouse)
        print_unit_economics(console, warehouse)
        print_savings(console, warehouse)
        reconciled = _reconcile(warehouse, result.expected_totals)
        conformant = skip_validation or _validate(warehouse)
    if not (reconciled and conformant):
        raise UserError("the demo build does not reconcile or does not conform to FOCUS; see above")
    console.print(f"[green]demo ready[/] in {time.monotonic() - started:.0f} s: warehouse {warehouse}")


@main.command()
@click.argument("source", type=click.Choice(LOAD_SOURCES))
@click.argument("path_or_url", required=False)
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), help="API sources: first day to read (UTC).")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), help="API sources: day after the last one (exclusive).")
@click.option(
    "--granularity", type=click.Choice(["DAILY", "HOURLY"]), default="DAILY", show_default=True,
    help="aws-cost-explorer: daily or hourly spend.",
)  # fmt: skip
@click.option("--tag", "tags", multiple=True, help="aws-cost-explorer: also group by this tag key (repeatable).")
@click.option("--allow-rejects", is_flag=True, help="Exit 0 even when rows or files were rejected.")
@click.pass_obj
def load(
    warehouse: Path,
    source: str,
    path_or_url: str | None,
    start: datetime | None,
    end: datetime | None,
    granularity: str,
    tags: tuple[str, ...],
    allow_rejects: bool,
) -> None:
    """Load native exports from a folder, a file or an s3:// gs:// az:// prefix, or read an AWS API.

    `aws-cost-explorer` and `aws-cloudwatch` take --start and --end (end exclusive) instead of a path and
    use the default AWS credential chain (environment, profile, instance role).

    Prints one line per file. Rejected rows are kept in meta.rejected_rows, every file in meta.load_log.
    """
    from ingestion.pipeline import ApiRequest

    api = None
    if source in API_SOURCES:
        if start is None or end is None:
            raise UserError(f"{source} needs --start and --end (YYYY-MM-DD, end exclusive)")
        api = ApiRequest(start.date(), end.date(), granularity, tags)
        path_or_url = f"{source} {start.date()}..{end.date()}"
    elif path_or_url is None:
        raise UserError(f"{source} needs PATH_OR_URL: the folder, file or bucket prefix to load")
    with user_errors():
        report = _load(source, path_or_url, warehouse, per_file=True, api=api)
    problems = [f for f in report.files if f.status in ("failed", "skipped") or f.rows_rejected]
    if problems and not allow_rejects:
        raise UserError(
            f"{len(problems)} file(s) had rejected rows or could not be loaded; see meta.load_log and "
            "meta.rejected_rows (use --allow-rejects to accept)"
        )


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("dbt_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def build(warehouse: Path, dbt_args: tuple[str, ...]) -> None:
    """Run `dbt build` (seeds, models, tests); extra arguments go to dbt, e.g. `-s focus_costs+`."""
    with user_errors():
        _build(warehouse, list(dbt_args), quiet=False)


@main.group()
def export() -> None:
    """Export a mart to a file."""


@export.command("focus")
@click.argument("out", type=click.Path(dir_okay=False))
@click.pass_obj
def export_focus_command(warehouse: Path, out: str) -> None:
    """Write marts.focus_costs to OUT.parquet or OUT.csv."""
    from finops_warehouse.export import export_focus

    with user_errors():
        rows = export_focus(warehouse, Path(out))
    console.print(f"wrote {rows:,} FOCUS rows to {out}")


@main.command()
@click.option("--scale", type=click.Choice(["small", "medium", "large"]), default="small", show_default=True)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False),
    default=str(Path("~/.cache/finops-bench").expanduser()),
    show_default=True,
    help="Scratch folder for generated data and warehouses (emptied first; keep it outside the repository).",
)
@click.option("--no-peer", is_flag=True, help="Skip the focus-converter comparison.")
def bench(scale: str, workdir: str, no_peer: bool) -> None:
    """Measure load, build, incremental and dashboard times and peak memory; write bench/RESULTS.md."""
    from finops_warehouse.bench import run_bench, write_results

    with user_errors(), console.status(f"benchmark at {scale} scale") as status:
        results = run_bench(scale, Path(workdir), peer=not no_peer, progress=lambda line: status.update(line))
        json_path, markdown_path = write_results(results)
    console.print(f"benchmark written to {markdown_path} and {json_path}")


@main.command()
@click.argument("landing")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds between polls; a file must keep its size and time over one interval to be loaded.",
)
@click.option("--once", is_flag=True, help="Process the deliveries that are ready now, then exit (cron, tests).")
@click.option(
    "--adopt",
    is_flag=True,
    help="Record every file now in LANDING as processed, without loading or building: for a warehouse "
    "already loaded from it with `finops load` and built.",
)
@click.option(
    "--webhook",
    envvar=WEBHOOK_ENV,
    default=None,
    help=f"Send new anomalies to this Slack-compatible webhook after each cycle (env {WEBHOOK_ENV}).",
)
@click.option(
    "--dashboard-url",
    envvar=DASHBOARD_ENV,
    default=DEFAULT_DASHBOARD_URL,
    show_default=True,
    help=f"Base URL of the dashboard the alerts link to (env {DASHBOARD_ENV}).",
)
@click.pass_obj
def watch(
    warehouse: Path, landing: str, interval: float, once: bool, adopt: bool, webhook: str | None, dashboard_url: str
) -> None:
    """Poll LANDING (a folder or an s3:// gs:// az:// prefix with aws/ azure/ gcp/ events/ in it) and, for every
    new or changed delivery, load it, rebuild what depends on it and send alerts for new anomalies.

    One line per step with its time. Ctrl-C stops after the current step; a second Ctrl-C stops at once. Every
    cycle is recorded in meta.pipeline_runs; an interrupted one is done again on the next run.
    """
    from finops_warehouse.watch import Watcher, WatchError, WatchOptions

    options = WatchOptions(landing, warehouse, interval, once, webhook, dashboard_url)
    try:
        watcher = Watcher(options, _say)
        if adopt:
            _say(f"adopted {watcher.adopt():,} file(s) in {landing} as already processed")
            return
        _say(f"watching {landing} every {interval:g} s for {warehouse}" + (" (one pass)" if once else ""))
        outcome = watcher.run()
    except WatchError as exc:
        raise UserError(str(exc)) from exc
    except KeyboardInterrupt:
        _say("stopped; an unfinished cycle is done again on the next run")
        sys.exit(130)
    _say(f"stopped: {outcome.succeeded} cycle(s) succeeded, {outcome.failed} failed")
    if outcome.failed and once:
        raise UserError(f"{outcome.failed} cycle(s) failed; see the lines above and meta.pipeline_runs")


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("dbt_args", nargs=-1, type=click.UNPROCESSED)
@click.pass_obj
def freshness(warehouse: Path, dbt_args: tuple[str, ...]) -> None:
    """Run `dbt source freshness`: each source's latest load against its SLA (dbt var source_sla_hours).

    Exits 1 when a source is past its error SLA; past the warning SLA it only warns. Extra arguments go to
    dbt, e.g. `-s source:aws_cur`.
    """
    from finops_warehouse.dbt import run_dbt

    with user_errors():
        checked = run_dbt(["source", "freshness", *dbt_args], warehouse)
    console.print(f"freshness: {len(checked)} source table(s) within their error SLA")


def _say(line: str) -> None:
    """One log line with a UTC time stamp, flushed at once (a watcher's output is usually a log file)."""
    click.echo(f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} {line}")
    sys.stdout.flush()


@main.command()
@click.option("--port", type=int, default=8501, show_default=True)
@click.pass_obj
def dashboard(warehouse: Path, port: int) -> None:
    """Serve the Streamlit dashboard at http://localhost:PORT until Ctrl-C."""
    if not warehouse.is_file():
        raise UserError(f"{warehouse}: no warehouse yet; run `finops demo` first")
    app = PROJECT_DIR / "dashboards" / "app.py"
    console.print(f"dashboard on http://localhost:{port} (Ctrl-C to stop)")
    command = [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    try:
        # Run from the repository so Streamlit picks up .streamlit/config.toml.
        subprocess.run(command, check=False, cwd=PROJECT_DIR, env={**os.environ, WAREHOUSE_ENV: str(warehouse)})
    except KeyboardInterrupt:
        console.print("dashboard stopped")


@main.command("serve-events")
@click.option(
    "--landing",
    envvar="FINOPS_EVENTS_LANDING",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder accepted batches are written to, for `finops load events` (env FINOPS_EVENTS_LANDING).",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8600, show_default=True)
@click.option("--max-body-bytes", type=click.IntRange(min=1), default=5 * 1024 * 1024, show_default=True)
@click.option("--max-events", type=click.IntRange(min=1), default=10_000, show_default=True, help="Per batch.")
@click.pass_obj
def serve_events(warehouse: Path, landing: str, host: str, port: int, max_body_bytes: int, max_events: int) -> None:
    """Accept business events over HTTP (POST /events, bearer token) into LANDING until SIGTERM or Ctrl-C.

    The token comes from FINOPS_EVENTS_TOKEN or .secrets/events_token beside the warehouse.
    """
    from finops_warehouse.events_endpoint.server import Settings, events_token, log_to_stderr, serve

    with user_errors():
        # Beside the warehouse, like the pseudonymisation key: the secrets of one deployment in one place.
        token = events_token(warehouse.parent / ".secrets")
        settings = Settings(Path(landing).expanduser().resolve(), token, max_body_bytes, max_events)
        log_to_stderr()
        try:
            serve(settings, host, port)
        except OSError as exc:
            raise UserError(f"{exc.filename or f'{host}:{port}'}: {exc.strerror or exc}") from exc


def _load(
    source: str, location: str, warehouse: Path, per_file: bool = False, api: ApiRequest | None = None
) -> LoadReport:
    from ingestion.pipeline import run_load

    with console.status(f"loading {source} from {location}") as status:
        report = run_load(source, location, warehouse, on_step=lambda message: status.update(message), api=api)
    if per_file:
        for f in report.files:
            detail = f" ({f.error})" if f.error else ""
            console.print(
                f"{f.status:<10} {f.file}: read {f.rows_read:,}, loaded {f.rows_loaded:,}, "
                f"rejected {f.rows_rejected:,}{detail}",
                soft_wrap=True,
            )
    rows = ", ".join(f"{table} {count:,} rows" for table, count in report.rows_loaded.items()) or "no rows"
    console.print(f"loaded {source}: {len(report.deliveries)} delivery(ies), {rows}")
    if report.superseded_files:
        console.print(f"  skipped {len(report.superseded_files)} superseded file(s) of older deliveries")
    return report


def _build(warehouse: Path, dbt_args: list[str], quiet: bool = True) -> None:
    from finops_warehouse.dbt import run_dbt

    started = time.monotonic()
    with console.status("building the warehouse (dbt build)"):
        run_dbt(["build", *dbt_args], warehouse, quiet=quiet)
    console.print(f"dbt build passed in {time.monotonic() - started:.0f} s")


def _reconcile(warehouse: Path, invoice_totals_csv: Path) -> bool:
    from finops_warehouse.reconcile import expected_totals, mismatches

    problems = mismatches(warehouse, invoice_totals_csv)
    invoices = len(expected_totals(invoice_totals_csv))
    if problems:
        console.print(f"[red]reconciliation: {len(problems)} of {invoices} invoices differ[/]")
        for line in problems:
            console.print(f"  {line}")
        return False
    console.print(f"[green]reconciliation:[/] all {invoices} invoices match billed and effective cost exactly")
    return True


def _validate(warehouse: Path) -> bool:
    from finops_warehouse.export import export_focus
    from finops_warehouse.focus_validation import ensure_validator, validate_focus_file

    export_file = warehouse.parent / "focus_export.parquet"
    with console.status("exporting FOCUS data and running focus-validator 2.2.1"):
        export_focus(warehouse, export_file)
        ensure_validator()
        result = validate_focus_file(export_file, applicability_all=True)
    colour = "green" if result.ok else "red"
    console.print(f"[{colour}]FOCUS validation:[/] {result.summary_line()}")
    return result.ok


@contextmanager
def _progress() -> Iterator[Progress]:
    columns: list[Callable | object] = [
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    ]  # fmt: skip
    with Progress(*columns, console=console, transient=True) as progress:
        yield progress


main.add_command(alerts_command)

if __name__ == "__main__":
    main()
