"""Screenshot a running dashboard, failing if Streamlit shows an exception.

Usage: `python -m dashboards.screenshot OUT.png [--url http://localhost:8501]`
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"  # Debian's package: Playwright's own browser download is unreachable here
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1440, "height": 900}
TIMEOUT_MS = 30_000
# Vega draws charts a moment after the script run ends; without this pause they can be caught blank.
SETTLE_MS = 1_500

# Streamlit publishes its connection and script state on the root element.
APP_DONE = "[data-testid='stApp'][data-test-connection-state='CONNECTED'][data-test-script-state='notRunning']"
EXCEPTION = '[data-testid="stException"]'


class DashboardError(RuntimeError):
    """The page rendered an exception box."""


def wait_for_render(page: Page) -> None:
    """Wait until the app has run, its skeletons are gone and Vega has had time to draw."""
    page.locator(APP_DONE).wait_for(state="attached", timeout=TIMEOUT_MS)
    page.locator("[data-testid='stSkeleton']").first.wait_for(state="detached", timeout=TIMEOUT_MS)
    page.wait_for_timeout(SETTLE_MS)


def save_full_page(page: Page, out: Path) -> None:
    """Save the whole page, not just the viewport, as a PNG."""
    # Streamlit scrolls inside its own container, so a "full page" screenshot would stop at the viewport;
    # growing the viewport to the content height captures the whole page.
    height = page.evaluate(
        "Math.max(...[...document.querySelectorAll('[data-testid=\"stMain\"], body')]"
        ".map(element => element.scrollHeight))"
    )
    page.set_viewport_size({"width": VIEWPORT["width"], "height": max(VIEWPORT["height"], int(height))})
    page.wait_for_timeout(SETTLE_MS)
    out.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out), full_page=True)


def take_screenshot(url: str, out: Path) -> None:
    """Open `url`, wait until the app has run and drawn, and save a full-page PNG to `out`.

    Raises:
        DashboardError: if the page shows a Streamlit exception (the screenshot is still saved).
    """
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(url, timeout=TIMEOUT_MS)
            wait_for_render(page)
            save_full_page(page, out)
            exceptions = page.locator(EXCEPTION)
            if exceptions.count():
                raise DashboardError(f"{url} shows an exception: {exceptions.first.inner_text()[:500]}")
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="PNG file to write")
    parser.add_argument("--url", default="http://localhost:8501", help="the running dashboard")
    args = parser.parse_args(argv)
    try:
        take_screenshot(args.url, args.out)
    except DashboardError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
