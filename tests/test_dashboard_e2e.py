"""End to end: the dashboard served by `streamlit run` on the demo warehouse, driven in headless Chromium.

Every page must show the marts' headline numbers (the expectations test_dashboard.py computes with DuckDB),
show no exception box, and leave a screenshot; with FINOPS_UPDATE_README_SCREENSHOT=1 the overview's
refreshes docs/img/overview.png.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from conftest import query
from playwright.sync_api import Browser, Page, sync_playwright
from test_dashboard import PAGES, default_range

from dashboards.screenshot import CHROMIUM, CHROMIUM_ARGS, EXCEPTION, VIEWPORT, save_full_page, wait_for_render

REPO_ROOT = Path(__file__).resolve().parents[1]
APP = REPO_ROOT / "dashboards" / "app.py"
README_SCREENSHOT = REPO_ROOT / "docs" / "img" / "overview.png"
UPDATE_SCREENSHOT_ENV = "FINOPS_UPDATE_README_SCREENSHOT"
STARTUP_TIMEOUT_S = 90


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"streamlit exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"streamlit did not answer on {url} within {STARTUP_TIMEOUT_S} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def dashboard(demo_warehouse: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh `streamlit run dashboards/app.py` on a free port against the demo warehouse."""
    warehouse, _ = demo_warehouse
    url = f"http://localhost:{_free_port()}"
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    command = [
        sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", url.rsplit(":", 1)[1],
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env={**os.environ, "FINOPS_WAREHOUSE": str(warehouse)}, stdout=output, stderr=output
        )
    try:
        _wait_until_healthy(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: the end-to-end dashboard test drives Debian's chromium package. "
            "Install it with `apt-get install -y chromium` (`make test` does this when it is missing)."
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def open_page(browser: Browser, url: str) -> Page:
    page = browser.new_page(viewport=VIEWPORT, accept_downloads=True)
    page.goto(url)
    wait_for_render(page)
    exceptions = page.locator(EXCEPTION)
    assert not exceptions.count(), f"{url} shows an exception: {exceptions.first.inner_text()[:2000]}"
    return page


def headline(page: Page) -> dict[str, str]:
    """The label and value of every metric on the page, as the browser shows them."""
    cards = page.locator('[data-testid="stMetric"]')
    return {
        cards.nth(i).locator('[data-testid="stMetricLabel"]').inner_text().strip(): cards.nth(i)
        .locator('[data-testid="stMetricValue"]')
        .inner_text()
        .strip()
        for i in range(cards.count())
    }


def test_an_alert_link_works_as_the_first_request_a_fresh_server_gets(
    dashboard: str, browser: Browser, demo_warehouse: tuple[Path, Path]
) -> None:
    # Runs first on purpose: Streamlit resolves its multipage layout on the first request it serves.
    warehouse, _ = demo_warehouse
    anomaly_id, provider, team, first, last = query(
        warehouse,
        "select anomaly_id, provider, team, min(anomaly_start_date), max(anomaly_end_date) from marts.cost_anomalies "
        "where is_anomaly and team is not null group by 1, 2, 3 order by 4 desc limit 1",
    )[0]
    link = f"{dashboard}/anomalies?" + urllib.parse.urlencode(
        {"anomaly": anomaly_id, "provider": provider, "team": team, "start": first, "end": last}
    )

    page = open_page(browser, link)

    assert urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)["anomaly"] == [anomaly_id]
    detail = page.locator('[data-testid="stMarkdown"]').filter(has_text=f"owner {team}")
    assert f"{first} to {last}" in detail.inner_text(), "the linked anomaly is the one described and charted"
    assert headline(page)["Anomalies"] == "1"
    assert page.locator('[data-testid="stVegaLiteChart"]').count() == 1
    page.close()


@pytest.mark.parametrize(("path", "expected"), [(path, headline) for _, path, headline in PAGES])
def test_every_page_shows_the_marts_numbers_without_errors(
    dashboard: str,
    browser: Browser,
    screenshots: Path,
    demo_warehouse: tuple[Path, Path],
    path: str,
    expected: Callable[[Path], dict[str, str]],
) -> None:
    warehouse, _ = demo_warehouse

    page = open_page(browser, f"{dashboard}/{path}")

    assert headline(page) == expected(warehouse)
    assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 1
    shot = screenshots / f"{path or 'overview'}.png"
    save_full_page(page, shot)
    assert shot.stat().st_size > 0
    # Refreshing the README's screenshot is opt-in, so a test run leaves the working tree clean.
    if not path and os.environ.get(UPDATE_SCREENSHOT_ENV):
        shutil.copyfile(shot, README_SCREENSHOT)
    page.close()


def test_the_showback_download_holds_the_numbers_shown(
    dashboard: str, browser: Browser, demo_warehouse: tuple[Path, Path]
) -> None:
    warehouse, _ = demo_warehouse
    start, end = default_range(warehouse)
    by_unit = query(
        warehouse,
        "select business_unit, BillingCurrency, sum(allocated_effective_cost) from marts.allocated_costs "
        f"where charge_date between '{start}' and '{end}' group by 1, 2",
    )
    page = open_page(browser, f"{dashboard}/showback")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").first.click()

    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert {(row["Business unit"], row["Currency"]): Decimal(row["Effective cost"]) for row in rows} == {
        (unit, currency): cost.quantize(Decimal("0.01"), ROUND_HALF_UP) for unit, currency, cost in by_unit
    }
    assert download.value.suggested_filename == f"showback_business_units_{start}_{end}.csv"
    page.close()
