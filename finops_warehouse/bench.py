"""`finops bench`: how fast the warehouse loads and builds, how much memory each step takes, and how the
cost of a daily refresh grows with history, next to DuckDB's own readers and the FOCUS converter.

Every measured step runs in a child process of its own, so its peak memory is that step's alone: the
kernel's max RSS of the child and everything it started (`wait4`), and the summed RSS of the whole process
tree sampled while it runs (the FOCUS converter writes with several processes at once). dbt and dlt run
in-process inside those children, exactly as `finops load` and `finops build` run them.

Two times are kept per step: `seconds`, the step itself timed inside the child once its imports are
done, and `process_seconds`, the whole child including interpreter start-up and imports, which is what a
user running the CLI waits for.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import importlib
import importlib.metadata
import io
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from finops_warehouse.paths import PROJECT_DIR, WAREHOUSE_ENV

BENCH_DIR = PROJECT_DIR / "bench"
DEFAULT_WORKDIR = BENCH_DIR / "out"
# A fixed last day keeps the data identical from run to run. Mid-month on purpose: the next day then
# extends the open month instead of closing one, which is the common daily case.
END_DATE = dt.date(2026, 10, 14)
HISTORY_DAYS = (30, 90, 365)
SOURCES = {"aws-cur": "aws", "azure": "azure", "gcp": "gcp", "events": "events"}
BILLING_SOURCES = ("aws-cur", "azure", "gcp")
CONVERTER_REQUIREMENTS = ("focus-converter==1.0.0", "multimethod<1.11", "click<8.2")
# Rows of each FOCUS output handed to focus-validator: it needs about a minute per million rows.
VALIDATION_ROW_CAP = 500_000
# The FOCUS mart and what it is built from, with the tests on those nodes. `buildable` leaves out tests
# that also read an unselected node: the seed relationship test service_categories -> the FOCUS
# subcategories seed fails with the default (eager) selection on a fresh warehouse.
FOCUS_MART_BUILD = ["build", "-s", "+focus_costs", "--indirect-selection", "buildable"]
FULL_BUILD = ["build", "--full-refresh"]
# What a scheduled refresh runs after a delivery: every model and data test, but not the unit tests, whose
# inputs are fixed and which belong to CI (dbt's own advice).
INCREMENTAL_BUILD = ["build", "--exclude-resource-type", "unit_test"]
DASHBOARD_REPEATS = 5
MB = 1024 * 1024


@dataclass(frozen=True)
class Workload:
    """A bench scale: which demo scale and how many days give the intended number of line items."""

    demo_scale: str
    days: int
    intended_line_items: int


# The demo generator's scales are sized at 90 days; 30 days of `small` is about 100k line items.
WORKLOADS = {
    "small": Workload("small", 30, 100_000),
    "medium": Workload("medium", 90, 1_000_000),
    "large": Workload("large", 90, 10_000_000),
}
# 365 days at the large rate would be 40M rows (about 20 GB of exports); the history series measures
# growth with days of history, so large uses the medium daily rate unless told otherwise.
DEFAULT_HISTORY_SCALE = {"small": "small", "medium": "medium", "large": "medium"}


class BenchError(RuntimeError):
    """A measured step failed; the message names the step and ends with its last output lines."""


# ---------------------------------------------------------------------------------------------------
# Measuring one child process
# ---------------------------------------------------------------------------------------------------


@dataclass
class Measured:
    """What one child process took."""

    seconds: float
    process_seconds: float
    peak_rss_mb: float
    cpu_seconds: float = 0.0  # user + system time of the whole process tree
    others_cpu_share: float = 0.0  # share of the machine's CPU other processes used meanwhile
    result: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 3),
            "process_seconds": round(self.process_seconds, 3),
            "cpu_seconds": round(self.cpu_seconds, 3),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "others_cpu_share": round(self.others_cpu_share, 3),
        }


class TreeSampler(threading.Thread):
    """Samples the summed RSS of a process and all its descendants until stopped."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_bytes = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak_bytes = max(self.peak_bytes, sum(_rss_bytes(p) for p in _tree(self.pid)))
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def _tree(pid: int) -> list[int]:
    """The process and its descendants, from /proc (Linux); gone processes are simply left out."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                children = Path(f"/proc/{current}/task/{task}/children").read_text().split()
            except OSError:
                continue
            pending.extend(int(child) for child in children)
    return found


def _rss_bytes(pid: int) -> int:
    try:
        resident_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def run_measured(cmd: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> Measured:
    """Run `cmd` to completion; wall time and peak memory of its whole process tree.

    Raises:
        BenchError: when it exits non-zero.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as sink:
        sink.write(f"$ {' '.join(cmd)}\n".encode())
        sink.flush()
        started, busy_before = time.perf_counter(), _machine_busy_seconds()
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        # wait4 rather than wait: its ru_maxrss is the peak of the child and every descendant it reaped.
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        sampler.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(cmd[:6])} ... exited {proc.returncode}:\n{_tail(log)}")
    peak = max(usage.ru_maxrss * 1024, sampler.peak_bytes) / MB  # ru_maxrss is in KiB on Linux
    cpu = usage.ru_utime + usage.ru_stime
    others = max(0.0, _machine_busy_seconds() - busy_before - cpu) / (elapsed * (os.cpu_count() or 1))
    return Measured(elapsed, elapsed, peak, cpu_seconds=cpu, others_cpu_share=min(others, 1.0))


class CpuWatch:
    """How much of the machine's CPU other processes used while the bench ran.

    Wall times are only comparable between runs on a quiet machine; a shared machine (other test suites,
    builds) slows every step, so the share is reported beside the figures instead of being assumed zero.
    """

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.busy, self.ours = _machine_busy_seconds(), _own_cpu_seconds()

    def others_share(self) -> dict[str, float]:
        wall = time.perf_counter() - self.started
        others = max(0.0, (_machine_busy_seconds() - self.busy) - (_own_cpu_seconds() - self.ours))
        cores = os.cpu_count() or 1
        return {"other_cpu_seconds": round(others, 1), "other_cpu_share": round(others / (wall * cores), 3)}


def _machine_busy_seconds() -> float:
    """CPU seconds all processes have used since boot (/proc/stat: everything but idle and iowait)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    import resource

    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


def _tail(log: Path, lines: int = 15) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def measure(step: str, log: Path, **kwargs: Any) -> Measured:
    """Run one step of this module in a child Python process and measure it.

    A `warehouse` argument is also passed as FINOPS_WAREHOUSE, as the CLI does, so dbt's profile sees it.
    """
    out = log.parent / f".{step}-{os.getpid()}-{time.monotonic_ns()}.json"
    cmd = [sys.executable, "-m", "finops_warehouse.bench", "--step", step, "--out", str(out)]
    cmd += ["--kwargs", json.dumps(kwargs, default=str)]
    env = {**os.environ, "RUNTIME__LOG_LEVEL": "ERROR"}
    if "warehouse" in kwargs:
        env[WAREHOUSE_ENV] = str(kwargs["warehouse"])
    measured = run_measured(cmd, log, env=env, cwd=PROJECT_DIR)
    payload = json.loads(out.read_text())
    out.unlink()
    measured.seconds = payload["seconds"]
    measured.result = payload["result"]
    return measured


# ---------------------------------------------------------------------------------------------------
# The steps, as they run inside a child process
# ---------------------------------------------------------------------------------------------------


def step_generate(out: str, days: int, seed: int, scale: str, end_date: str) -> dict[str, Any]:
    from finops_warehouse.demo import generate_demo

    result = generate_demo(Path(out), days=days, seed=seed, scale=scale, end_date=dt.date.fromisoformat(end_date))
    return {"line_items": result.line_items, "rows": result.rows, "bytes": _folder_bytes(Path(out))}


def step_load(source: str, location: str, warehouse: str) -> dict[str, Any]:
    from ingestion.pipeline import run_load

    report = run_load(source, location, Path(warehouse))
    return {
        "rows": sum(report.rows_loaded.values()),
        "files_loaded": sum(1 for f in report.files if f.rows_loaded),
        "files_seen": len(report.files),
        "rows_rejected": report.rows_rejected,
    }


def step_native_read(files: list[str], database: str) -> dict[str, Any]:
    """DuckDB's own readers, defaults and all, over the same files into tables of a database file."""
    import duckdb

    rows = 0
    with duckdb.connect(database) as con:
        for index, (reader, group) in enumerate(_by_reader(files).items()):
            listed = ", ".join("'" + f.replace("'", "''") + "'" for f in group)
            con.execute(f"create table native_{index} as select * from {reader.format(files=listed)}")
            rows += con.sql(f"select count(*) from native_{index}").fetchall()[0][0]
    return {"rows": rows}


def _by_reader(files: Iterable[str]) -> dict[str, list[str]]:
    readers = {
        "parquet": "read_parquet([{files}], union_by_name = true)",
        "csv": "read_csv([{files}], union_by_name = true)",
        "json": "read_json([{files}], format = 'newline_delimited', union_by_name = true)",
    }
    grouped: dict[str, list[str]] = {}
    for f in files:
        name = f.lower()
        kind = "parquet" if name.endswith(".parquet") else "csv" if ".csv" in name else "json"
        grouped.setdefault(readers[kind], []).append(f)
    return grouped


def step_dbt(args: list[str], warehouse: str) -> dict[str, Any]:
    from finops_warehouse.dbt import run_dbt

    run_dbt(args, Path(warehouse), quiet=True)
    return {}


def step_export(warehouse: str, out: str) -> dict[str, Any]:
    from finops_warehouse.export import export_focus

    return {"rows": export_focus(Path(warehouse), Path(out))}


def step_dashboard(warehouse: str, repeats: int) -> dict[str, Any]:
    """Each dashboard query function's own SQL, run directly (past Streamlit's cache) on the warehouse."""
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    from dashboards import data

    os.environ[WAREHOUSE_ENV] = warehouse
    key = data.open_warehouse()
    first, last = data.charge_date_bounds.__wrapped__(key)
    providers = tuple(data.provider_names.__wrapped__(key))
    queries = {}
    for name, function in _query_functions(data).items():
        arguments = (key,) if _takes_only_warehouse(function) else (key, first, last, providers)
        timings, rows = [], 0
        for _ in range(repeats + 1):  # the first call is the cold one
            started = time.perf_counter()
            value = function(*arguments)
            timings.append((time.perf_counter() - started) * 1000)
            rows = len(value) if hasattr(value, "__len__") else 1
        queries[name] = {
            "cold_ms": round(timings[0], 2),
            "warm_median_ms": round(statistics.median(timings[1:]), 2),
            "warm_max_ms": round(max(timings[1:]), 2),
            "rows": rows,
        }
    return {
        "queries": queries,
        "renders": _render_pages(),
        "date_range": [str(first), str(last)],
        "providers": list(providers),
    }


def _render_pages() -> dict[str, dict[str, Any]]:
    """Each page run the way Streamlit serves it (entry script, sidebar, the page), timed with AppTest.

    Each page gets a fresh app on cold caches for its own queries; the filters' queries the entry script
    runs are warm after the first page, as they are for a user moving between pages.
    """
    from streamlit.testing.v1 import AppTest

    renders = {}
    for page in sorted((PROJECT_DIR / "dashboards" / "views").glob("*.py")):
        if page.stem == "__init__":
            continue
        app = AppTest.from_file(str(PROJECT_DIR / "dashboards" / "app.py"), default_timeout=120)
        app.run()
        started = time.perf_counter()
        app.switch_page(f"views/{page.name}").run()
        renders[page.stem] = {
            "render_ms": round((time.perf_counter() - started) * 1000, 1),
            "exceptions": len(app.exception),
        }
    return renders


def _query_functions(module: Any) -> dict[str, Callable[..., Any]]:
    """The module's cached query functions (`st.cache_data`), unwrapped; the cached connection is not one."""
    found = {}
    for name in dir(module):
        wrapper = getattr(module, name)
        inner = getattr(wrapper, "__wrapped__", None)
        if callable(inner) and type(wrapper).__name__ == "CachedFunc" and not name.startswith("_"):
            found[name] = inner
    return found


def _takes_only_warehouse(function: Callable[..., Any]) -> bool:
    import inspect

    return list(inspect.signature(function).parameters) == ["warehouse"]


STEPS: dict[str, Callable[..., dict[str, Any]]] = {
    "generate": step_generate,
    "load": step_load,
    "native_read": step_native_read,
    "dbt": step_dbt,
    "export": step_export,
    "dashboard": step_dashboard,
}
# Imported before the clock starts, so `seconds` is the step's work and not the interpreter's start-up.
STEP_IMPORTS = {
    "generate": ("finops_warehouse.demo",),
    "load": ("ingestion.pipeline", "ingestion.aws_cur", "ingestion.azure_cost", "ingestion.gcp_billing"),
    "native_read": ("duckdb",),
    "dbt": ("finops_warehouse.dbt", "dbt.cli.main", "dbt.adapters.duckdb"),
    "export": ("finops_warehouse.export",),
    "dashboard": ("dashboards.data",),
}


def _child_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="finops_warehouse.bench")
    parser.add_argument("--step", choices=sorted(STEPS), required=True)
    parser.add_argument("--kwargs", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    for module in STEP_IMPORTS[args.step]:
        importlib.import_module(module)
    started = time.perf_counter()
    result = STEPS[args.step](**json.loads(args.kwargs))
    seconds = time.perf_counter() - started
    Path(args.out).write_text(json.dumps({"seconds": seconds, "result": result}, default=str))


# ---------------------------------------------------------------------------------------------------
# The bench, step by step (parent process)
# ---------------------------------------------------------------------------------------------------


@dataclass
class Context:
    """Where a bench run writes, and how it reports progress."""

    workdir: Path
    log: Path
    seed: int
    end_date: dt.date
    say: Callable[[str], None]


def run_bench(
    scale: str,
    workdir: Path = DEFAULT_WORKDIR,
    *,
    days: int | None = None,
    history_days: tuple[int, ...] = HISTORY_DAYS,
    history_scale: str | None = None,
    peer: bool = True,
    watch: bool = True,
    converter_venv: Path | None = None,
    seed: int = 42,
    end_date: dt.date = END_DATE,
    keep_data: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Generate demo data at `scale`, measure every step, and return the results (see bench/RESULTS.md).

    Args:
        scale: small (~100k line items), medium (~1M) or large (~10M).
        workdir: Scratch folder for data and warehouses; emptied first. Keep it outside the repository.
        days: Override the scale's days of history (tests use a few days).
        history_days: Days of history at which the one-day incremental is measured.
        history_scale: Demo scale (daily rate) of that history series; default per DEFAULT_HISTORY_SCALE.
        peer: Run the focus-converter comparison (needs python3.11 and PyPI the first time).
        watch: Measure landing -> anomaly flag through `finops watch` on 90 days of history (small scale only).
        converter_venv: Where focus-converter's own venv lives; default `<workdir>/.venv-focus-converter`
            (kept between runs).
        seed, end_date: Demo data seed and last day.
        keep_data: Keep the generated data and warehouses instead of deleting them at the end.
        progress: Called with one line per step.
    """
    if scale not in WORKLOADS:
        raise ValueError(f"unknown scale {scale!r}: choose one of {', '.join(WORKLOADS)}")
    if (end_date + dt.timedelta(days=1)).day == 1:
        raise ValueError("end_date must not be a month's last day: the incremental day must extend the open month")
    workload = WORKLOADS[scale]
    days = days or workload.days
    workdir = Path(workdir).resolve()
    _reset(workdir)
    ctx = Context(workdir, workdir / "bench.log", seed, end_date, progress or (lambda _line: None))
    started, watch = time.perf_counter(), CpuWatch()
    data, warehouse = workdir / "main" / "data", workdir / "main" / "warehouse" / "finops.duckdb"

    results: dict[str, Any] = {"scale": scale, "machine": machine_info(), "started_at": _now()}
    results["dataset"] = _generate(ctx, data, workload.demo_scale, days)
    results["dataset"]["intended_line_items"] = workload.intended_line_items
    results["load"] = _loads(ctx, data, warehouse)
    # From here on a failing step (a build out of memory at a large scale) is a result to report, not a
    # reason to lose the figures already measured.
    focus_args = (ctx, warehouse, FOCUS_MART_BUILD, " ".join(["dbt", *FOCUS_MART_BUILD]))
    results["focus_mart_build"] = _attempt(ctx, _dbt, *focus_args)
    # The FOCUS build above already created the marts; incremental models would skip most of their work
    # now, so the full build is forced to rebuild everything from raw.
    results["dbt_build"] = _attempt(ctx, _dbt, ctx, warehouse, FULL_BUILD, " ".join(["dbt", *FULL_BUILD]))
    results["python_models"] = _attempt(ctx, _python_models, ctx, warehouse)
    results["dashboard"] = _attempt(ctx, _dashboard, ctx, warehouse)
    results["rescan"] = _attempt(ctx, _rescan, ctx, data, warehouse)
    main_increment = _attempt(ctx, _incremental, ctx, data, warehouse, workload.demo_scale, days)
    peer_args = (ctx, data, results["load"]["aws-cur"], converter_venv)
    results["peer"] = _attempt(ctx, _peer, *peer_args) if peer else _skipped("--no-peer")
    results["incremental"] = {"history_days": days, "history_line_items": results["dataset"]["line_items"]}
    results["incremental"].update(main_increment)
    series_scale = history_scale or DEFAULT_HISTORY_SCALE[scale]
    series_args = (ctx, history_days, series_scale, workload.demo_scale, days, main_increment)
    results["history_series"] = _attempt(ctx, _history_series, *series_args)
    # The target is set at the default scale; at the others it would add a second full load and build.
    watched = watch and scale == "small"
    results["watch"] = _attempt(ctx, _watch_latency, ctx, workload.demo_scale) if watched else _skipped("small only")
    results["totals"] = _totals(results)
    results["targets"] = evaluate_targets(results)
    results["bench_seconds"] = round(time.perf_counter() - started, 1)
    results["contention"] = watch.others_share()
    if not keep_data:
        for child in ("main", "peer"):
            shutil.rmtree(workdir / child, ignore_errors=True)
    return results


def _reset(workdir: Path) -> None:
    if (workdir / ".git").exists() or workdir == PROJECT_DIR:
        raise ValueError(f"{workdir}: refusing to use a repository as the bench work folder")
    for child in ("main", "peer", "history"):
        shutil.rmtree(workdir / child, ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "bench.log").unlink(missing_ok=True)


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _skipped(reason: str) -> dict[str, Any]:
    return {"status": "skipped", "reason": reason}


def _attempt(ctx: Context, section: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run one section of the bench; a failed step is recorded with its error instead of ending the run."""
    try:
        return section(*args)
    except BenchError as exc:
        error = str(exc).strip().splitlines()[-1]
        ctx.say(f"FAILED: {error}")
        return {"status": "failed", "error": error}


def _generate(ctx: Context, out: Path, demo_scale: str, days: int, end_date: dt.date | None = None) -> dict[str, Any]:
    end = end_date or ctx.end_date
    ctx.say(f"generating {days} days of {demo_scale} demo data ending {end}")
    m = measure("generate", ctx.log, out=str(out), days=days, seed=ctx.seed, scale=demo_scale, end_date=str(end))
    return {
        "demo_scale": demo_scale,
        "days": days,
        "end_date": str(end),
        "line_items": m.result["line_items"],
        "rows": m.result["rows"],
        "bytes": m.result["bytes"],
        "generate": m.summary(),
    }


def _loads(ctx: Context, data: Path, warehouse: Path) -> dict[str, Any]:
    """Each provider: our load, then DuckDB's native read of exactly the files that load used."""
    results = {}
    for source, folder in SOURCES.items():
        ctx.say(f"loading {source}")
        ours = measure("load", ctx.log, source=source, location=str(data / folder), warehouse=str(warehouse))
        files = loaded_files(warehouse, source)
        native_db = ctx.workdir / "main" / "native.duckdb"
        native_db.unlink(missing_ok=True)
        ctx.say(f"DuckDB native read of the same {len(files)} {source} file(s)")
        native = measure("native_read", ctx.log, files=files, database=str(native_db))
        native_db.unlink(missing_ok=True)
        results[source] = {
            **ours.summary(),
            "rows": ours.result["rows"],
            "rows_per_s": round(ours.result["rows"] / ours.seconds) if ours.seconds else None,
            "files": files,
            "bytes": sum(Path(f).stat().st_size for f in files),
            "native": {**native.summary(), "rows": native.result["rows"]},
            "ratio_to_native": round(ours.seconds / native.seconds, 2) if native.seconds else None,
        }
    return results


def loaded_files(warehouse: Path, source: str) -> list[str]:
    """The files the latest load of `source` took rows from, as recorded in meta.load_log."""
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select file from meta.load_log where source = ? and rows_loaded > 0 and load_id = "
            "(select max(load_id) from meta.load_log where source = ?) order by file",
            [source, source],
        ).fetchall()
    return [file for (file,) in rows]


def _dbt(ctx: Context, warehouse: Path, args: list[str], label: str) -> dict[str, Any]:
    ctx.say(label)
    return {"command": label, **measure("dbt", ctx.log, args=args, warehouse=str(warehouse)).summary()}


def python_model_names() -> list[str]:
    """dbt Python models in the project (their node names are the file names)."""
    return sorted(p.stem for p in (PROJECT_DIR / "models").rglob("*.py"))


def _python_models(ctx: Context, warehouse: Path) -> dict[str, Any]:
    names = python_model_names()
    if not names:
        return {"status": "not built yet", "models": []}
    # `run`, not `build`: the figure is the models' own time, without the data tests around them.
    result = _dbt(ctx, warehouse, ["run", "-s", *names], f"dbt run -s {' '.join(names)}")
    return {"status": "measured", "models": names, **result}


def _dashboard(ctx: Context, warehouse: Path) -> dict[str, Any]:
    ctx.say("dashboard queries")
    m = measure("dashboard", ctx.log, warehouse=str(warehouse), repeats=DASHBOARD_REPEATS)
    pages = dashboard_pages(m.result["queries"], m.result["renders"])
    return {**m.summary(), **m.result, "repeats": DASHBOARD_REPEATS, "pages": pages}


def dashboard_pages(queries: dict[str, Any], renders: dict[str, Any]) -> dict[str, Any]:
    """Per page, the queries it calls, their summed latency, and the whole page's render time."""
    pages = {}
    for page in sorted((PROJECT_DIR / "dashboards" / "views").glob("*.py")):
        text = page.read_text()
        called = [name for name in queries if f"data.{name}(" in text]
        if called:
            pages[page.stem] = {
                "queries": called,
                "cold_ms": round(sum(queries[q]["cold_ms"] for q in called), 2),
                "warm_ms": round(sum(queries[q]["warm_median_ms"] for q in called), 2),
                **renders.get(page.stem, {}),
            }
    return pages


def _rescan(ctx: Context, data: Path, warehouse: Path) -> dict[str, Any]:
    """Loading the same export folders again, with nothing new in them: what a daily re-scan costs."""
    per_source = {}
    for source, folder in SOURCES.items():
        ctx.say(f"re-scan of {source} with nothing new")
        per_source[source] = measure(
            "load", ctx.log, source=source, location=str(data / folder), warehouse=str(warehouse)
        ).summary()
    return {
        "sources": per_source,
        "process_seconds": round(sum(s["process_seconds"] for s in per_source.values()), 2),
    }


def _incremental(ctx: Context, data: Path, warehouse: Path, demo_scale: str, days: int) -> dict[str, Any]:
    """One more day: the providers' next delivery of the open month, loaded, then a full `dbt build`."""
    root = data.parent
    next_day = ctx.end_date + dt.timedelta(days=1)
    ctx.say(f"generating the next day's deliveries ({next_day})")
    next_data, increment = root / "next_day", root / "increment"
    measure(
        "generate", ctx.log, out=str(next_data), days=days + 1, seed=ctx.seed, scale=demo_scale, end_date=str(next_day)
    )
    copied = copy_next_delivery(next_data, data, increment, next_day)
    shutil.rmtree(next_data, ignore_errors=True)
    loads = {}
    for source, folder in SOURCES.items():
        if (increment / folder).is_dir():
            ctx.say(f"incremental load of {source}")
            loads[source] = measure(
                "load", ctx.log, source=source, location=str(increment / folder), warehouse=str(warehouse)
            )
    ctx.say("dbt build after the incremental load")
    build = measure("dbt", ctx.log, args=INCREMENTAL_BUILD, warehouse=str(warehouse))
    steps = [*loads.values(), build]
    return {
        "delivered_files": copied,
        "delivered_rows": {s: m.result["rows"] for s, m in loads.items()},
        "loads": {s: m.summary() for s, m in loads.items()},
        "dbt_build": build.summary(),
        "load_seconds": round(sum(m.seconds for m in loads.values()), 2),
        "build_seconds": round(build.seconds, 2),
        "seconds": round(sum(m.seconds for m in steps), 2),
        "process_seconds": round(sum(m.process_seconds for m in steps), 2),
        "cpu_seconds": round(sum(m.cpu_seconds for m in steps), 2),
        "peak_rss_mb": round(max(m.peak_rss_mb for m in steps), 1),
    }


def copy_next_delivery(next_data: Path, data: Path, increment: Path, next_day: dt.date) -> int:
    """Copy what the providers deliver on `next_day` into `increment`; returns the number of files.

    The generator rewrites the whole window for a new end date, but a provider delivers only a new
    month-to-date version of the open billing period (manifest and files), and new event files. Those are
    the files under the open month's folders, and the event files that differ from what is already there.
    """
    month = next_day.replace(day=1)
    markers = (
        f"/{month:%Y%m%d}-",  # legacy CUR and Azure period folders: 20261001-20261101, 20261001-20261031
        f"BILLING_PERIOD={month:%Y-%m}",  # CUR 2.0
        f"invoice_month={month:%Y%m}",  # GCP
    )
    if increment.exists():
        shutil.rmtree(increment)
    copied = 0
    for path in sorted(p for p in next_data.rglob("*") if p.is_file()):
        relative = path.relative_to(next_data)
        posix = "/" + relative.as_posix()
        if relative.parts[0] in ("labels", "expected"):
            continue
        if relative.parts[0] == "events":
            existing = data / relative
            wanted = not existing.exists() or existing.read_bytes() != path.read_bytes()
        else:
            wanted = any(marker in posix for marker in markers)
        if wanted:
            target = increment / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            copied += 1
    return copied


def _history_series(
    ctx: Context,
    history_days: tuple[int, ...],
    history_scale: str,
    main_scale: str,
    main_days: int,
    main_increment: dict[str, Any],
) -> dict[str, Any]:
    """The same one-day incremental on 30, 90 and 365 days of history: does it grow with history?"""
    points = []
    for days in history_days:
        if days == main_days and history_scale == main_scale and main_increment.get("status") != "failed":
            points.append({"days": days, "reused_main_run": True, **_point(main_increment)})
            continue
        root = ctx.workdir / "history" / f"{days}d"
        data, warehouse = root / "data", root / "warehouse" / "finops.duckdb"
        dataset = _generate(ctx, data, history_scale, days)
        setup = [
            measure("load", ctx.log, source=s, location=str(data / f), warehouse=str(warehouse))
            for s, f in SOURCES.items()
        ]
        ctx.say(f"full build on {days} days of history")
        full = measure("dbt", ctx.log, args=["build"], warehouse=str(warehouse))
        increment = _incremental(ctx, data, warehouse, history_scale, days)
        points.append(
            {
                "days": days,
                "line_items": dataset["line_items"],
                "initial_load_seconds": round(sum(m.seconds for m in setup), 2),
                "initial_build_seconds": round(full.seconds, 2),
                **_point(increment),
            }
        )
        shutil.rmtree(root, ignore_errors=True)
    return {"demo_scale": history_scale, "points": points}


def _point(increment: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "load_seconds", "build_seconds", "seconds", "process_seconds", "cpu_seconds", "peak_rss_mb", "delivered_rows",
    )  # fmt: skip
    return {k: increment[k] for k in keys if k in increment}


# ---------------------------------------------------------------------------------------------------
# Near real time: from a delivery landing in a watched folder to its anomaly flag
# ---------------------------------------------------------------------------------------------------

WATCH_HISTORY_DAYS = 90
# Added to one usage line item of the new day: far above any demo series, so the flag is certain.
WATCH_SPIKE = Decimal("20000")
WATCH_TIMEOUT_SECONDS = 900


def _watch_latency(ctx: Context, demo_scale: str) -> dict[str, Any]:
    """90 days loaded, built and watched; the next day's AWS delivery, with a spike planted, lands in the
    watched folder. Measures landing -> flag (the cycle's latency) and its steps from meta.pipeline_runs."""
    root = ctx.workdir / "watch"
    shutil.rmtree(root, ignore_errors=True)
    landing, warehouse = root / "landing", root / "warehouse" / "finops.duckdb"
    next_day = ctx.end_date + dt.timedelta(days=1)
    dataset = _generate(ctx, landing, demo_scale, WATCH_HISTORY_DAYS)
    for source, folder in SOURCES.items():
        ctx.say(f"watch: loading the history of {source}")
        measure("load", ctx.log, source=source, location=str(landing / folder), warehouse=str(warehouse))
    ctx.say("watch: building the history")
    measure("dbt", ctx.log, args=INCREMENTAL_BUILD, warehouse=str(warehouse))
    _generate(ctx, root / "next_day", demo_scale, WATCH_HISTORY_DAYS + 1, end_date=next_day)
    copy_next_delivery(root / "next_day", landing, root / "increment", next_day)
    planted_file = plant_cur_spike(root / "increment", next_day, WATCH_SPIKE)
    with _webhook_receiver() as webhook:
        # Alerts for the history's anomalies go out before watching, so the cycle sends only the new one.
        watch_env = {**os.environ, WAREHOUSE_ENV: str(warehouse), "FINOPS_ALERT_WEBHOOK": webhook.url}
        _run_cli(["alerts"], watch_env, ctx.log)
        _run_cli(["watch", str(landing), "--adopt"], watch_env, ctx.log)
        ctx.say("watch: dropping the next day's AWS delivery into the watched folder")
        seconds, line = _watch_one_delivery(landing, root / "increment", watch_env, root / "watch.log")
        alerts_received = webhook.received
    run = _latest_cycle(warehouse)
    flagged = _spike_flagged(warehouse, next_day, WATCH_SPIKE)
    shutil.rmtree(root, ignore_errors=True)
    return {
        "history_days": WATCH_HISTORY_DAYS,
        "history_line_items": dataset["line_items"],
        "delivery": planted_file,
        "observed_seconds": round(seconds, 2),
        "watch_line": line,
        "flagged": flagged,
        "alerts_received": alerts_received,
        **run,
    }


def plant_cur_spike(increment: Path, day: dt.date, amount: Decimal) -> str:
    """Add `amount` to one plain usage line item of `day` in the newest legacy CUR file under `increment`.

    Returns:
        The file changed, relative to `increment`.
    """
    newest = max((increment / "aws" / "cur").rglob("*.csv.gz"), key=lambda p: p.stat().st_mtime)
    with gzip.open(newest, "rt", newline="") as handle:
        rows = list(csv.reader(handle))
    col = {name: index for index, name in enumerate(rows[0])}
    for row in rows[1:]:
        plain_usage = (
            row[col["lineItem/LineItemType"]] == "Usage"
            and row[col["lineItem/UsageStartDate"]].startswith(day.isoformat())
            and Decimal(row[col["lineItem/UnblendedCost"]] or 0) > 1
            and not row[col["savingsPlan/SavingsPlanEffectiveCost"]]
            and not row[col["reservation/EffectiveCost"]]
        )
        if plain_usage:
            for name in ("lineItem/UnblendedCost", "lineItem/BlendedCost"):
                row[col[name]] = str(Decimal(row[col[name]]) + amount)
            break
    else:
        raise BenchError(f"{newest}: no plain usage line item on {day}")
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    with gzip.open(newest, "wt", newline="") as handle:
        handle.write(buffer.getvalue())
    return newest.relative_to(increment).as_posix()


def land_files(increment: Path, landing: Path, folder: str) -> None:
    """Copy the increment's files of one landing folder into the landing, new modification times and all."""
    for path in sorted((increment / folder).rglob("*")):
        if path.is_file():
            target = landing / path.relative_to(increment)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)


def _watch_one_delivery(landing: Path, increment: Path, env: dict[str, str], log: Path) -> tuple[float, str]:
    """Start `finops watch`, land the AWS files, wait for the cycle's last line; returns its wall time and line."""
    command = [sys.executable, "-m", "finops_warehouse.cli", "watch", str(landing), "--interval", "1"]
    with log.open("w") as out:
        watcher = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_for(log, "watching", watcher, 120)
        started = time.perf_counter()
        land_files(increment, landing, "aws")
        line = _wait_for(log, "aws-cur:", watcher, WATCH_TIMEOUT_SECONDS, "from landing")
        return time.perf_counter() - started, line
    finally:
        watcher.send_signal(signal.SIGTERM)
        watcher.wait(timeout=120)


def _wait_for(log: Path, prefix: str, process: subprocess.Popen, timeout: float, suffix: str = "") -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log.read_text().splitlines():
            if prefix in line and suffix in line:
                return line
        if process.poll() is not None:
            raise BenchError(f"finops watch exited with {process.returncode}:\n{_tail(log)}")
        time.sleep(0.2)
    raise BenchError(f"finops watch: no {prefix!r} line within {timeout:.0f} s:\n{_tail(log)}")


def _run_cli(args: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("a") as out:
        done = subprocess.run([sys.executable, "-m", "finops_warehouse.cli", *args], stdout=out, stderr=out, env=env)
    if done.returncode:
        raise BenchError(f"finops {' '.join(args)} failed:\n{_tail(log)}")


def _latest_cycle(warehouse: Path) -> dict[str, Any]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute(
            "select status, error, rows_loaded, models_rebuilt, latency_seconds, detect_seconds, load_seconds, "
            "build_seconds, alerts_seconds, alerts_sent from meta.pipeline_runs where finished_at is not null "
            "order by finished_at desc limit 1"
        )
        names = [column[0] for column in cursor.description]
        [row] = cursor.fetchall()
    return dict(zip(names, row, strict=True))


def _spike_flagged(warehouse: Path, day: dt.date, amount: Decimal) -> bool:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select count(*) from marts.cost_anomalies where is_anomaly and provider = 'aws' and charge_date = ? "
            "and actual_cost >= ?",
            [day, amount],
        ).fetchall()
    return rows[0][0] > 0


@dataclass
class _Receiver:
    url: str
    received: int = 0


@contextmanager
def _webhook_receiver() -> Iterator[_Receiver]:
    """A local Slack-compatible webhook that accepts every message, so the alerts step is timed too."""
    receiver = _Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.received += 1
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def _watch_target(run: dict[str, Any]) -> tuple[bool | None, str]:
    watch = run["watch"]
    if watch.get("status") in ("skipped", "failed"):
        return None, f"not measured: {_why(watch)}"
    if not watch["flagged"]:
        return False, f"{watch['latency_seconds']:.1f} s, but the planted spike was not flagged"
    return watch["latency_seconds"] < 30, _watch_cell(watch)


def _watch_cell(watch: dict[str, Any]) -> str:
    steps = ", ".join(
        f"{step} {_fmt_s(watch[f'{step}_seconds'])}"
        for step in ("detect", "load", "build", "alerts")
        if watch.get(f"{step}_seconds") is not None
    )
    return f"{_fmt_s(watch['latency_seconds'])} ({steps}) on {watch['history_days']} days"


# ---------------------------------------------------------------------------------------------------
# Peer comparison: the FinOps Foundation's focus-converter on the same legacy CUR files
# ---------------------------------------------------------------------------------------------------


def _peer(ctx: Context, data: Path, aws_load: dict[str, Any], converter_venv: Path | None) -> dict[str, Any]:
    cur_files = [f for f in aws_load["files"] if ".csv" in Path(f).name.lower()]
    if not cur_files:
        return _skipped("no legacy CUR files in this dataset")
    venv = converter_venv or ctx.workdir / ".venv-focus-converter"
    try:
        converter = ensure_converter(venv, ctx.log)
    except BenchError as exc:
        return _skipped(f"focus-converter could not be installed: {exc}")
    root = ctx.workdir / "peer"
    ours = _ours_on_cur(ctx, data, root)
    theirs = _converter_on(ctx, converter, cur_files, root / "converter")
    return {
        "files": len(cur_files),
        "rows": sum(_csv_rows(Path(f)) for f in cur_files),
        "bytes": sum(Path(f).stat().st_size for f in cur_files),
        "ours": ours,
        "focus_converter": theirs,
        "speedup": round(theirs["process_seconds"] / ours["process_seconds"], 2),
        "memory_ratio": round(ours["peak_rss_mb"] / theirs["peak_rss_mb"], 3),
    }


def ensure_converter(venv: Path, log: Path) -> Path:
    """focus-converter 1.0.0 in a venv of its own (its pins clash with ours); returns its executable."""
    executable = venv / "bin" / "focus-converter"
    marker = venv / ".installed"
    if marker.exists() and executable.exists():
        return executable
    python = shutil.which("python3.11") or sys.executable
    try:
        run_measured([python, "-m", "venv", str(venv)], log)
        run_measured([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *CONVERTER_REQUIREMENTS], log)
    except BenchError as exc:
        raise BenchError(str(exc).splitlines()[-1]) from exc
    marker.write_text(" ".join(CONVERTER_REQUIREMENTS) + "\n")
    return executable


def _ours_on_cur(ctx: Context, data: Path, root: Path) -> dict[str, Any]:
    """`finops load aws-cur` on the legacy CUR folder, `dbt build -s +focus_costs`, `finops export focus`."""
    warehouse = root / "warehouse" / "finops.duckdb"
    export = root / "ours_focus.parquet"
    ctx.say("peer: our load + FOCUS build + export of the legacy CUR files")
    cur = str(data / "aws" / "cur")  # legacy CUR only: CUR 2.0 lives beside it in aws/cur2
    load = measure("load", ctx.log, source="aws-cur", location=cur, warehouse=str(warehouse))
    build = measure("dbt", ctx.log, args=FOCUS_MART_BUILD, warehouse=str(warehouse))
    exported = measure("export", ctx.log, warehouse=str(warehouse), out=str(export))
    steps = {"load": load, "focus_build": build, "export": exported}
    return {
        "steps": {name: m.summary() for name, m in steps.items()},
        "seconds": round(sum(m.seconds for m in steps.values()), 2),
        "process_seconds": round(sum(m.process_seconds for m in steps.values()), 2),
        "peak_rss_mb": round(max(m.peak_rss_mb for m in steps.values()), 1),
        "output_rows": exported.result["rows"],
        "validation": _validate(ctx, export, root / "ours_sample.parquet"),
    }


def _converter_on(ctx: Context, converter: Path, files: list[str], out: Path) -> dict[str, Any]:
    """One converter run per CUR file (its CLI takes one CSV), each in its own output folder."""
    runs = []
    for index, f in enumerate(files):
        ctx.say(f"peer: focus-converter on {Path(f).name} ({index + 1}/{len(files)})")
        target = out / f"{index:03d}"
        cmd = [str(converter), "convert", "--provider", "aws-cur", "--data-path", f, "--data-format", "csv"]
        cmd += ["--export-path", f"{target}/", "--no-export-include-source-columns"]
        runs.append(run_measured(cmd, ctx.log, cwd=out.parent))
    merged = out.parent / "converter_focus.parquet"
    rows = _merge_parquet(out, merged)
    return {
        "runs": len(runs),
        "process_seconds": round(sum(m.process_seconds for m in runs), 2),
        "peak_rss_mb": round(max(m.peak_rss_mb for m in runs), 1),
        "output_rows": rows,
        "validation": _validate(ctx, merged, out.parent / "converter_sample.parquet"),
    }


def _merge_parquet(folder: Path, out: Path) -> int:
    import duckdb

    with duckdb.connect() as con:
        con.execute(f"copy (select * from read_parquet('{folder}/**/*.parquet', union_by_name = true)) to '{out}'")
        return con.sql(f"select count(*) from read_parquet('{out}')").fetchall()[0][0]


def _csv_rows(path: Path) -> int:
    import duckdb

    with duckdb.connect() as con:
        return con.sql(f"select count(*) from read_csv('{path}', all_varchar = true)").fetchall()[0][0]


def _validate(ctx: Context, parquet: Path, sample: Path) -> dict[str, Any]:
    """focus-validator on the output, or on its first VALIDATION_ROW_CAP rows when it is larger."""
    import duckdb

    from finops_warehouse.focus_validation import FocusValidatorError, ensure_validator, validate_focus_file

    with duckdb.connect() as con:
        rows = con.sql(f"select count(*) from read_parquet('{parquet}')").fetchall()[0][0]
        target = parquet
        if rows > VALIDATION_ROW_CAP:
            con.execute(f"copy (select * from read_parquet('{parquet}') limit {VALIDATION_ROW_CAP}) to '{sample}'")
            target = sample
    ctx.say(f"focus-validator on {parquet.name}")
    try:
        ensure_validator()
        result = validate_focus_file(target, applicability_all=True)
    except FocusValidatorError as exc:
        return {"status": "not run", "reason": str(exc)}
    return {
        "status": "passed" if result.ok else "failed",
        "rows_validated": min(rows, VALIDATION_ROW_CAP),
        "rules": result.total,
        "failed": result.failed,
        "unexpected_failures": len(result.unexpected_failures),
        "first_unexpected": result.unexpected_failures[:8],
        "summary": result.summary_line(),
    }


# ---------------------------------------------------------------------------------------------------
# Totals and targets
# ---------------------------------------------------------------------------------------------------


def _totals(results: dict[str, Any]) -> dict[str, Any]:
    """End-to-end figures in process seconds: what a user running the CLI commands one after another waits."""
    try:
        return _sums(results)
    except (KeyError, TypeError):  # a step they add up failed; its section says why
        return {"load_plus_focus_seconds": None, "whole_pipeline_seconds": None, "peak_rss_mb": None}


def _sums(results: dict[str, Any]) -> dict[str, Any]:
    load = results["load"]
    focus = results["focus_mart_build"]["process_seconds"]
    python_models = results["python_models"].get("process_seconds", 0.0)
    pipeline_steps = [*load.values(), results["dbt_build"], results["dashboard"]]
    if results["python_models"].get("status") == "measured":
        pipeline_steps.append(results["python_models"])
    return {
        "load_plus_focus_seconds": round(sum(load[s]["process_seconds"] for s in BILLING_SOURCES) + focus, 2),
        "whole_pipeline_seconds": round(
            sum(load[s]["process_seconds"] for s in SOURCES) + results["dbt_build"]["process_seconds"] + python_models,
            2,
        ),
        "peak_rss_mb": max(step["peak_rss_mb"] for step in pipeline_steps),
    }


@dataclass(frozen=True)
class Target:
    """One target from the issue, checked against a run."""

    name: str
    applies_at: str | None  # the only scale it is defined at, or None for every scale
    check: Callable[[dict[str, Any]], tuple[bool | None, str]]  # (met, measured figure); None: not measured


def _load_ratio(run: dict[str, Any]) -> tuple[bool | None, str]:
    ratios = {s: v["ratio_to_native"] for s, v in run["load"].items()}
    worst = max(ratios.values())
    return worst <= 2.0, ", ".join(f"{s} {r:.2f}x" for s, r in ratios.items())


def _seconds_under(limit: float, key: str) -> Callable[[dict[str, Any]], tuple[bool | None, str]]:
    def check(run: dict[str, Any]) -> tuple[bool | None, str]:
        value = run["totals"][key]
        return value < limit, f"{value:.1f} s"

    return check


def _whole_pipeline(run: dict[str, Any]) -> tuple[bool | None, str]:
    value = run["totals"]["whole_pipeline_seconds"]
    note = "" if run["python_models"]["status"] == "measured" else " (no Python models exist yet)"
    return value < 300, f"{value:.1f} s{note}"


def _python_models_time(run: dict[str, Any]) -> tuple[bool | None, str]:
    section = run["python_models"]
    if section.get("status") != "measured":
        return None, f"not measured: {section.get('status')}"
    return section["process_seconds"] < 60, f"{section['process_seconds']:.1f} s for {len(section['models'])} models"


def _page_render_time(run: dict[str, Any]) -> tuple[bool | None, str]:
    pages = {name: page for name, page in run["dashboard"]["pages"].items() if "render_ms" in page}
    if not pages:
        return None, "not measured: no page rendered"
    slowest = max(pages, key=lambda name: pages[name]["render_ms"])
    failed = [name for name, page in pages.items() if page["exceptions"]]
    measured = f"slowest {slowest} {pages[slowest]['render_ms']:.0f} ms of {len(pages)} pages"
    if failed:
        return False, f"{measured}; exceptions on {', '.join(failed)}"
    return pages[slowest]["render_ms"] < 2000, measured


def _peak_memory(run: dict[str, Any]) -> tuple[bool | None, str]:
    value = run["totals"]["peak_rss_mb"]
    return value < 4096, f"{value / 1024:.2f} GB"


def _incremental_time(run: dict[str, Any]) -> tuple[bool | None, str]:
    inc = run["incremental"]
    value = inc["process_seconds"]
    return value < 15, f"{value:.1f} s on {inc['history_line_items']:,} line items of history"


# The increment may grow by this much from 30 to 365 days before it counts as growing with history.
GROWTH_TOLERANCE = 1.25


def _incremental_growth(run: dict[str, Any]) -> tuple[bool | None, str]:
    """Judged on the total and on its dbt build part.

    The load part reads the same month-to-date delivery whatever the history, so its changes are noise
    (other processes on the machine); a growing build is the real cost of history and must not hide
    behind a load that happened to run faster.
    """
    points = {p["days"]: p for p in run["history_series"]["points"]}
    if len(points) < 2:
        return None, f"needs two or more history lengths; measured: {sorted(points) or 'none'}"
    short, long = points[min(points)], points[max(points)]
    total = long["process_seconds"] / short["process_seconds"]
    build = long["build_seconds"] / short["build_seconds"]
    memory = long["peak_rss_mb"] / short["peak_rss_mb"]
    figures = ", ".join(f"{d} d {p['process_seconds']:.1f} s" for d, p in sorted(points.items()))
    measured = (
        f"{figures}; from {min(points)} to {max(points)} days: total {total:.2f}x, dbt build "
        f"{short['build_seconds']:.1f} -> {long['build_seconds']:.1f} s ({build:.2f}x), peak memory {memory:.1f}x"
    )
    return total <= GROWTH_TOLERANCE and build <= GROWTH_TOLERANCE, measured


def _peer_metric(kind: str) -> Callable[[dict[str, Any]], tuple[bool | None, str]]:
    def check(run: dict[str, Any]) -> tuple[bool | None, str]:
        peer = run["peer"]
        if peer.get("status") in ("skipped", "failed"):
            return None, f"not measured: {_why(peer)}"
        if kind == "speed":
            ours, theirs = peer["ours"]["process_seconds"], peer["focus_converter"]["process_seconds"]
            return peer["speedup"] >= 2, f"{peer['speedup']:.2f}x ({ours:.1f} s vs {theirs:.1f} s)"
        ours, theirs = peer["ours"]["peak_rss_mb"], peer["focus_converter"]["peak_rss_mb"]
        return peer["memory_ratio"] <= 0.25, f"{peer['memory_ratio']:.2f} of theirs ({ours:.0f} MB vs {theirs:.0f} MB)"

    return check


def _why(section: dict[str, Any]) -> str:
    return section.get("reason") or section.get("error") or "no reason recorded"


def _peer_validation(run: dict[str, Any]) -> tuple[bool | None, str]:
    peer = run["peer"]
    if peer.get("status") in ("skipped", "failed"):
        return None, f"not measured: {_why(peer)}"
    ours, theirs = peer["ours"]["validation"], peer["focus_converter"]["validation"]
    if "not run" in (ours["status"], theirs["status"]):
        return None, "focus-validator could not run"
    met = ours["status"] == "passed" and theirs["status"] == "failed"
    return met, f"ours {ours['status']}, focus-converter's {theirs['status']}"


TARGETS = (
    Target("Loading takes at most 2x DuckDB's native read of the same files", None, _load_ratio),
    Target("Medium: load + FOCUS mart build under 30 s", "medium", _seconds_under(30, "load_plus_focus_seconds")),
    Target("Large: load + FOCUS mart build under 2 min", "large", _seconds_under(120, "load_plus_focus_seconds")),
    Target("Large: whole pipeline (all loads, all marts, Python models) under 5 min", "large", _whole_pipeline),
    Target("Large: peak memory under 4 GB", "large", _peak_memory),
    Target("Default scale: Python models (forecasts, anomalies) under 60 s", "small", _python_models_time),
    Target("Default scale: every dashboard page renders in under 2 s", "small", _page_render_time),
    Target("One-day incremental (load + dbt build) under 15 s with 10M rows of history", "large", _incremental_time),
    Target("One-day incremental does not grow from 30 to 365 days of history", None, _incremental_growth),
    Target("Default scale: landing to flag under 30 s (90 days of history)", "small", _watch_target),
    Target("Same CUR file to FOCUS at least 2x faster than focus-converter", None, _peer_metric("speed")),
    Target("At most a quarter of focus-converter's peak memory", None, _peer_metric("memory")),
    Target("Our output passes focus-validator where focus-converter's does not", None, _peer_validation),
)


def evaluate_targets(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target from the issue: MET, NOT MET, NOT MEASURED, or defined at another scale."""
    evaluated = []
    for target in TARGETS:
        try:
            met, measured = target.check(run)
        except (KeyError, TypeError, ZeroDivisionError):
            met, measured = None, "not measured: a step it needs failed (see the sections below)"
        if target.applies_at and target.applies_at != run["scale"]:
            status = f"applies at {target.applies_at}"
        elif met is None:
            status = "NOT MEASURED"
        else:
            status = "MET" if met else "NOT MET"
        evaluated.append({"target": target.name, "status": status, "measured": measured})
    return evaluated


# ---------------------------------------------------------------------------------------------------
# Machine, results file and the markdown report
# ---------------------------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gb": round(_mem_total_bytes() / 1024**3, 1),
        "os": f"{_os_name()} (Linux {platform.release()})",
        "python": platform.python_version(),
        "duckdb": _version("duckdb"),
        "dbt_core": _version("dbt-core"),
        "dbt_duckdb": _version("dbt-duckdb"),
        "dlt": _version("dlt"),
        "date": _now()[:10],
        "commit": _git_commit(),
    }


def _git_commit() -> str:
    """The commit benchmarked; a snapshot without .git names it in FINOPS_BENCH_COMMIT."""
    try:
        proc = subprocess.run(
            ["git", "-C", str(PROJECT_DIR), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        )
    except OSError:
        proc = None
    if proc is not None and proc.returncode == 0:
        return proc.stdout.strip()
    return os.environ.get("FINOPS_BENCH_COMMIT", "unknown")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _mem_total_bytes() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def write_results(run: dict[str, Any], bench_dir: Path = BENCH_DIR) -> tuple[Path, Path]:
    """Merge this run into bench/results.json (one entry per scale) and rewrite bench/RESULTS.md."""
    bench_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = bench_dir / "results.json", bench_dir / "RESULTS.md"
    existing = json.loads(json_path.read_text()) if json_path.exists() else {}
    runs = existing.get("runs", {})
    runs[run["scale"]] = run
    ordered = {scale: runs[scale] for scale in WORKLOADS if scale in runs}
    json_path.write_text(json.dumps({"runs": ordered}, indent=2, default=str) + "\n")
    md_path.write_text(render_markdown(ordered))
    return json_path, md_path


def refresh_report(bench_dir: Path = BENCH_DIR) -> Path:
    """Re-judge every stored run against the current targets and rewrite RESULTS.md (no re-measuring)."""
    json_path = bench_dir / "results.json"
    runs = json.loads(json_path.read_text())["runs"]
    for run in runs.values():
        run["targets"] = evaluate_targets(run)
    json_path.write_text(json.dumps({"runs": runs}, indent=2, default=str) + "\n")
    md_path = bench_dir / "RESULTS.md"
    md_path.write_text(render_markdown(runs))
    return md_path


def render_markdown(runs: dict[str, dict[str, Any]]) -> str:
    """The report: machine, one table of the headline figures per scale, targets, then details."""
    scales = list(runs)
    lines = ["# Benchmark results", "", "Written by `finops bench`; rerun it to refresh. See the notes at the end.", ""]
    lines += _machine_lines(runs)
    lines += ["## Headline figures", "", *_table(["figure", *scales], _headline_rows(runs)), ""]
    for scale in scales:
        lines += _scale_section(runs[scale])
    lines += _NOTES
    return "\n".join(lines) + "\n"


def _machine_lines(runs: dict[str, dict[str, Any]]) -> list[str]:
    rows = []
    for scale, run in runs.items():
        m = run["machine"]
        rows.append(
            [
                scale,
                m["date"],
                m.get("commit", "unknown"),
                m["cpu"],
                str(m["cores"]),
                f"{m['ram_gb']} GB",
                m["os"],
                m["python"],
                m["duckdb"],
                f"dbt-core {m['dbt_core']}, dbt-duckdb {m['dbt_duckdb']}, dlt {m['dlt']}",
            ]
        )
    header = ["run", "date", "commit", "CPU", "cores", "RAM", "OS", "Python", "DuckDB", "dbt / dlt"]
    lines = ["## Machine", "", *_table(header, rows), ""]
    for scale, run in runs.items():
        share = run.get("contention", {}).get("other_cpu_share")
        if share is not None:
            lines.append(
                f"- {scale}: other processes on the machine used {share:.0%} of its CPU while this run took "
                f"{run['bench_seconds'] / 60:.0f} min; the wall times below include that contention."
            )
    return [*lines, ""]


def _fmt_s(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s" if value >= 10 else f"{value:.2f} s"


def _fmt_mb(value: float | None) -> str:
    return "-" if value is None else f"{value / 1024:.2f} GB" if value >= 1024 else f"{value:.0f} MB"


def _headline_rows(runs: dict[str, dict[str, Any]]) -> list[list[str]]:
    def row(label: str, figure: Callable[[dict[str, Any]], str]) -> list[str]:
        return [label, *(_guarded(figure, run) for run in runs.values())]

    rows = [row("line items (current deliveries)", lambda r: f"{r['dataset']['line_items']:,}")]
    rows.append(row("days of history", lambda r: str(r["dataset"]["days"])))
    for source in SOURCES:
        rows.append(row(f"load {source}", lambda r, s=source: _load_cell(r["load"][s])))
    rows.append(row("full dbt build (all models + tests)", lambda r: _step_cell(r["dbt_build"])))
    rows.append(row("dbt build -s +focus_costs", lambda r: _step_cell(r["focus_mart_build"])))
    rows.append(row("load + FOCUS mart (process s)", lambda r: _fmt_s(r["totals"]["load_plus_focus_seconds"])))
    rows.append(row("whole pipeline (process s)", lambda r: _fmt_s(r["totals"]["whole_pipeline_seconds"])))
    rows.append(row("Python models", lambda r: _python_cell(r["python_models"])))
    rows.append(row("dashboard page render; its queries cold / warm", _dashboard_cell))
    rows.append(row("one-day incremental (load + build)", lambda r: _increment_cell(r["incremental"])))
    rows.append(row("incremental at 30 / 90 / 365 days", _series_cell))
    rows.append(row("finops watch: landing to flag (steps)", _watch_cell_or_reason))
    rows.append(row("peak memory of any pipeline step", lambda r: _fmt_mb(r["totals"]["peak_rss_mb"])))
    rows.append(row("peer: ours vs focus-converter", _peer_cell))
    return rows


def _load_cell(load: dict[str, Any]) -> str:
    return (
        f"{_fmt_s(load['seconds'])}, {load['rows_per_s']:,} rows/s, {load['ratio_to_native']:.2f}x native, "
        f"{_fmt_mb(load['peak_rss_mb'])}"
    )


def _step_cell(step: dict[str, Any]) -> str:
    return f"{_fmt_s(step['seconds'])}, {_fmt_mb(step['peak_rss_mb'])}"


def _python_cell(step: dict[str, Any]) -> str:
    return _step_cell(step) if step["status"] == "measured" else step["status"]


def _dashboard_cell(run: dict[str, Any]) -> str:
    cells = []
    for name, page in run["dashboard"]["pages"].items():
        # Runs from before the render timing have only the queries' figures.
        render = f"{page['render_ms']:.0f} ms; " if "render_ms" in page else ""
        cells.append(f"{name} {render}{page['cold_ms']:.0f} / {page['warm_ms']:.0f} ms")
    return "; ".join(cells) or "-"


def _increment_cell(inc: dict[str, Any]) -> str:
    return (
        f"{_fmt_s(inc['process_seconds'])} end to end (in-step: {_fmt_s(inc['load_seconds'])} load + "
        f"{_fmt_s(inc['build_seconds'])} dbt build), peak {_fmt_mb(inc['peak_rss_mb'])}"
    )


def _series_cell(run: dict[str, Any]) -> str:
    series = run["history_series"]
    if not series.get("points"):
        return "not run at this scale"
    points = " / ".join(_fmt_s(p["process_seconds"]) for p in series["points"])
    return f"{points} ({series['demo_scale']} rate)"


def _peer_cell(run: dict[str, Any]) -> str:
    peer = run["peer"]
    if peer.get("status") in ("skipped", "failed"):
        return f"{peer['status']}: {_why(peer)}"
    ours, theirs = peer["ours"], peer["focus_converter"]
    return (
        f"{_fmt_s(ours['process_seconds'])} / {_fmt_mb(ours['peak_rss_mb'])} vs "
        f"{_fmt_s(theirs['process_seconds'])} / {_fmt_mb(theirs['peak_rss_mb'])}"
    )


def _scale_section(run: dict[str, Any]) -> list[str]:
    scale = run["scale"]
    lines = [f"## {scale}: targets", ""]
    targets = [[t["target"], t["status"], t["measured"]] for t in run["targets"]]
    lines += _table(["target", "status", "measured"], targets)
    lines += ["", f"## {scale}: loads against DuckDB's native readers", ""]
    header = ["source", "files", "rows", "ours", "rows/s", "peak", "DuckDB native", "native peak", "ratio"]
    header.append("others' CPU (ours / native)")
    rows = [
        [
            source,
            str(len(load["files"])),
            f"{load['rows']:,}",
            _fmt_s(load["seconds"]),
            f"{load['rows_per_s']:,}",
            _fmt_mb(load["peak_rss_mb"]),
            _fmt_s(load["native"]["seconds"]),
            _fmt_mb(load["native"]["peak_rss_mb"]),
            f"{load['ratio_to_native']:.2f}x",
            f"{_share(load)} / {_share(load['native'])}",
        ]
        for source, load in run["load"].items()
    ]
    lines += [*_table(header, rows), ""]
    for section, title in ((_dashboard_lines, "dashboard queries"), (_incremental_lines, "incremental")):
        try:
            lines += section(run)
        except (KeyError, TypeError):
            lines += [f"## {scale}: {title}", "", "Not measured: a step failed (see results.json).", ""]
    lines += _peer_lines(run)
    return lines


def _share(step: dict[str, Any]) -> str:
    """Other processes' share of the machine's CPU during a step (not recorded by older runs)."""
    share = step.get("others_cpu_share")
    return "-" if share is None else f"{share:.0%}"


def _guarded(figure: Callable[[dict[str, Any]], str], run: dict[str, Any]) -> str:
    try:
        return figure(run)
    except (KeyError, TypeError):
        return "failed or not measured"


def _watch_cell_or_reason(run: dict[str, Any]) -> str:
    """The watch figure, or why a run has none (the section runs at the small scale only)."""
    watch = run.get("watch")
    if watch is None:
        return "not measured by this run"
    return f"not measured: {watch['reason']}" if watch.get("status") == "skipped" else _watch_cell(watch)


def _dashboard_lines(run: dict[str, Any]) -> list[str]:
    dash = run["dashboard"]
    first, last = dash["date_range"]
    title = f"## {run['scale']}: dashboard queries ({first} to {last}, all providers, read-only)"
    rows = [
        [name, f"{q['cold_ms']:.1f} ms", f"{q['warm_median_ms']:.1f} ms", f"{q['warm_max_ms']:.1f} ms", str(q["rows"])]
        for name, q in dash["queries"].items()
    ]
    return [title, "", *_table(["query", "cold", f"warm median of {dash['repeats']}", "warm max", "rows"], rows), ""]


def _incremental_lines(run: dict[str, Any]) -> list[str]:
    inc, series = run["incremental"], run["history_series"]
    lines = [f"## {run['scale']}: one-day incremental", ""]
    lines.append(
        f"On this run's {run['dataset']['days']} days ({inc['history_line_items']:,} line items) of history: "
        f"{_increment_cell(inc)}. The delivery loaded: "
        + ", ".join(f"{source} {rows:,} rows" for source, rows in inc["delivered_rows"].items())
        + "."
    )
    again = _fmt_s(run["rescan"]["process_seconds"])
    lines += ["", f"Loading every export folder again with nothing new in it takes {again} (process s).", ""]
    if not series.get("points"):
        return [*lines, "The series by days of history was not run at this scale (`--history-days` empty).", ""]
    lines += [f"By days of history, at the {series['demo_scale']} daily rate:", ""]
    rows = [
        [
            str(p["days"]),
            f"{p['line_items']:,}" if "line_items" in p else f"{run['dataset']['line_items']:,}",
            _fmt_s(p["load_seconds"]),
            _fmt_s(p["build_seconds"]),
            _fmt_s(p["process_seconds"]),
            _fmt_mb(p["peak_rss_mb"]),
        ]
        for p in series["points"]
    ]
    return [*lines, *_table(["days", "line items", "load", "dbt build", "total (process)", "peak"], rows), ""]


def _peer_lines(run: dict[str, Any]) -> list[str]:
    peer = run["peer"]
    lines = [f"## {run['scale']}: FOCUS from the legacy CUR files, ours vs focus-converter 1.0.0", ""]
    if peer.get("status") in ("skipped", "failed"):
        return [*lines, f"{peer['status'].capitalize()}: {_why(peer)}.", ""]
    lines.append(f"{peer['files']} CUR file(s), {peer['rows']:,} rows, {_fmt_mb(peer['bytes'] / MB)} gzipped.")
    lines.append("")
    rows = [_peer_row("ours", peer["ours"]), _peer_row("focus-converter", peer["focus_converter"])]
    header = ["", "time (process)", "peak memory", "FOCUS rows", "focus-validator 2.2.1 (FOCUS 1.2)"]
    return [*lines, *_table(header, rows), ""]


def _peer_row(label: str, side: dict[str, Any]) -> list[str]:
    validation = side["validation"]
    verdict = validation["status"]
    if validation.get("rules"):
        verdict += (
            f" ({validation['failed']} of {validation['rules']} rules failed, "
            f"{validation['unexpected_failures']} unexpected)"
        )
    return [label, _fmt_s(side["process_seconds"]), _fmt_mb(side["peak_rss_mb"]), f"{side['output_rows']:,}", verdict]


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return [line(header), "| " + " | ".join("---" for _ in header) + " |", *(line(r) for r in rows)]


_NOTES = [
    "## How to read this",
    "",
    "- Each step runs in its own child process. *Peak* is the larger of the kernel's max RSS of that",
    "  process and everything it started, and the summed RSS of its process tree sampled every 50 ms.",
    "- Load, build and native-read times are the step's own time inside its process; *process s* adds",
    "  interpreter start-up and imports (about 2 s per command), which a user running the CLI also waits for.",
    "  End-to-end figures and the peer comparison use process seconds on both sides.",
    "- *Ratio* is our load time over DuckDB's own reader (`read_csv`, `read_parquet`, `read_json` with",
    "  default options, `union_by_name`) into a table of a database file, over exactly the files our load took",
    "  rows from, in the same run.",
    "- The full build is `dbt build --full-refresh` (it follows the FOCUS build, which already created the",
    "  marts). The one-day incremental loads the providers' next delivery of the open month (the whole month",
    "  to date, as AWS, Azure and GCP deliver it) and the next day's events, then runs `dbt build`, which",
    "  lets incremental models do only what changed.",
    "- The peer comparison runs focus-converter once per legacy CUR file (its CLI takes one file) against",
    "  `finops load aws-cur` + `dbt build -s +focus_costs` + `finops export focus` on the same files.",
    f"  focus-validator runs on each output, or on its first {VALIDATION_ROW_CAP:,} rows when larger.",
    "",
]


# ---------------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """`python -m finops_warehouse.bench`: a measured step (internal), or a whole bench run."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--step":
        _child_main(argv)
        return
    parser = argparse.ArgumentParser(prog="python -m finops_warehouse.bench")
    parser.add_argument("--scale", choices=list(WORKLOADS), default="small")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--history-days", default=",".join(map(str, HISTORY_DAYS)))
    parser.add_argument("--history-scale", choices=list(WORKLOADS), default=None)
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--keep-data", action="store_true")
    args = parser.parse_args(argv)
    run = run_bench(
        args.scale,
        args.workdir,
        history_days=tuple(int(d) for d in args.history_days.split(",") if d),
        history_scale=args.history_scale,
        peer=not args.no_peer,
        keep_data=args.keep_data,
        progress=lambda line: print(f"[{time.strftime('%H:%M:%S')}] {line}", flush=True),
    )
    json_path, md_path = write_results(run)
    print(f"wrote {json_path} and {md_path}")


if __name__ == "__main__":
    main()
