"""The dashboard in a real browser: headless Chromium (Debian's ``chromium`` package, which
``scripts/bootstrap --test`` installs) driven by Playwright's sync API, against the real daemon
started as a process. Playwright's own browser download is not used (its CDN is not reachable
here); the test skips only when no chromium binary can be found."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from sor_daemon.sim.service import free_port
from tests.support.processes import (
    running_daemon,
    spawn_daemon,
    stop,
    wait_until_ready,
    write_config,
)

CHROMIUM_NAMES = ("chromium", "chromium-browser")
ORDER_TIMEOUT_MS = 15_000
RECONNECT_TIMEOUT_MS = 30_000
TWAP = {
    "Algorithm": "TWAP",
    "Exchanges": ["DERIBIT"],
    "Parameters": {
        "side": "buy",
        "symbol": "BTC-USD",
        "symbol_type": "perpetual",
        "amount": "0.5",
        "duration": "2SEC",
        "interval": "1SEC",
    },
}


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Headless Chromium from the system's package."""
    executable = next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)
    if executable is None:
        pytest.skip(
            "no chromium binary on PATH: install Debian's chromium package "
            "(scripts/bootstrap --test does)"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        try:
            yield browser
        finally:
            browser.close()


def test_the_dashboard_follows_a_twap_and_drives_the_kill_switch(
    tmp_path: Path, browser: Browser
) -> None:
    with running_daemon(tmp_path) as daemon:
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page_errors: list[str] = []
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        page.goto(f"{daemon.api_url}/")

        expect(page.locator("#health-ems")).to_have_text("up")
        expect(page.locator("#health-market-data")).to_have_text("up")
        expect(page.locator("#feed-state")).to_have_text("live")

        order_id = httpx.post(f"{daemon.api_url}/v1/sor/add", json=TWAP).json()["id"]
        row = row_of(page, order_id)
        expect(row).to_be_visible()
        expect(row.get_by_role("progressbar")).to_have_attribute(
            "aria-valuenow", "100", timeout=ORDER_TIMEOUT_MS
        )
        expect(row.locator(".status")).to_have_text("Completed")
        expect(row.locator(".slippage")).not_to_have_text("—")

        row.click()
        fills = view_of(daemon.api_url, order_id)["fills"]
        expect(page.locator("#price-chart g.fills circle")).to_have_count(len(fills))
        expect(page.locator("#price-chart path.market-mid")).to_have_count(1)  # the market's mid
        expect(page.locator("#price-chart .legend.market-mid")).to_have_count(1)
        expect(page.locator("#progress-chart path.schedule")).to_have_count(1)
        expect(page.locator("#progress-chart path.filled")).to_have_count(1)
        save_screenshot(page, tmp_path)

        halt_and_resume(page)
        assert page_errors == []


def test_the_dashboard_catches_up_and_reconnects_after_a_restart(
    tmp_path: Path, browser: Browser
) -> None:
    api_port = free_port("127.0.0.1")
    config = write_config(tmp_path, api_port, free_port("127.0.0.1"))
    api_url = f"http://127.0.0.1:{api_port}"
    log_path = tmp_path / "daemon.log"
    process = spawn_daemon(config, log_path)
    try:
        wait_until_ready(process, api_url, log_path)
        earlier = httpx.post(f"{api_url}/v1/sor/add", json=TWAP).json()["id"]
        page = browser.new_page()
        page.goto(f"{api_url}/")  # the first connect catches up on the order already running
        expect(row_of(page, earlier).locator(".status")).to_have_text(
            "Completed", timeout=ORDER_TIMEOUT_MS
        )

        assert stop(process) == 0, log_path.read_text()
        expect(page.locator("#feed-state")).to_contain_text("reconnecting")
        expect(page.locator("#health-ems")).to_have_text("unreachable")

        process = spawn_daemon(config, log_path)
        wait_until_ready(process, api_url, log_path)
        expect(page.locator("#feed-state")).to_have_text("live", timeout=RECONNECT_TIMEOUT_MS)
        expect(row_of(page, earlier).locator(".status")).to_have_text("Completed")
        later = httpx.post(f"{api_url}/v1/sor/add", json=TWAP).json()["id"]
        expect(row_of(page, later).locator(".status")).to_have_text(
            "Completed", timeout=ORDER_TIMEOUT_MS
        )
    finally:
        assert stop(process) == 0, log_path.read_text()


def halt_and_resume(page: Page) -> None:
    """The kill switch from the page (the daemon is open, so the page is admin)."""
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#halt").click()
    expect(page.locator("#kill-switch-message")).to_contain_text("halted since")
    expect(page.locator("#health-halted")).to_have_text("halted")
    page.locator("#resume").click()
    expect(page.locator("#kill-switch-message")).to_have_text("trading resumed")
    expect(page.locator("#health-halted")).to_have_text("trading")


def row_of(page: Page, order_id: str) -> Locator:
    """The order's row in the table."""
    return page.locator(f'tr[data-order-id="{order_id}"]')


def view_of(api_url: str, order_id: str) -> dict[str, Any]:
    """The order as GET /requests lists it."""
    return httpx.get(f"{api_url}/v1/sor/requests/{order_id}").json()


def save_screenshot(page: Page, tmp_path: Path) -> None:
    """The page as a test artifact: in the test's tmp dir, and in ``$SOR_TEST_ARTIFACTS``."""
    paths = [tmp_path / "dashboard.png"]
    if artifacts := os.environ.get("SOR_TEST_ARTIFACTS"):
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        paths.append(Path(artifacts) / "dashboard.png")
    for path in paths:
        page.screenshot(path=path, full_page=True)
        print(f"dashboard screenshot: {path}")
