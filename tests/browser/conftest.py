"""Real-browser fixtures: the app on a live port, and headless Debian Chromium driven by Playwright (async).

Fixtures for any tests/browser/test_*.py module:
- `live_server` (module scope): main.py's app running in a daemon thread on a free port, on its own SQLite
  file, scheduler and demo off. Returns the base URL ("http://127.0.0.1:PORT"). Tests in the module share
  its database: create what each test needs (engine functions work in-process on the same database).
- `engine` (module scope): the engine main.py built for `live_server`; pass it to engine functions, so
  what a test creates is what the pages show.
- `browser_page` (per test): a fresh Chromium page, 1440 by 900, signed in as the bootstrap admin through the
  login form; open `live_server + path`. JavaScript console errors and uncaught page errors fail the test.
- `anonymous_page` (per test): the same, not signed in.
- The server starts with the bootstrap admin (tests/conftest.py ADMIN_EMAIL, ADMIN_PASSWORD) and admin API
  key (ADMIN_TOKEN); `AUTH` holds that key's header for HTTP calls.
- `chromium_path`: /usr/bin/chromium; tests skip when it is missing unless JOURNEYS_REQUIRE_BROWSER=1,
  which makes them fail instead.
"""

from __future__ import annotations

import os
import runpy
import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from nicegui import app
from nicegui.server import Server
from nicegui.testing.general import nicegui_reset_globals
from playwright.async_api import Browser, Page, async_playwright

from engine.engine import Engine
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_SECONDS = 20.0
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which(CHROMIUM) or (CHROMIUM if os.path.exists(CHROMIUM) else None)
    if path is None:
        reason = f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
        if os.environ.get("JOURNEYS_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}; JOURNEYS_REQUIRE_BROWSER=1 requires the browser tests to run")
        pytest.skip(reason)
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """main.py serving on a free port in a daemon thread, until the module's tests are done."""
    port = _free_port()
    database = tmp_path_factory.mktemp("live") / "journeys.db"
    env = {
        "NICEGUI_SCREEN_TEST_PORT": str(port),
        "JOURNEYS_DATABASE_URL": f"sqlite:///{database}",
        "JOURNEYS_SCHEDULER": "0",
        "JOURNEYS_DEMO": "0",
        "JOURNEYS_PORT": str(port),
        "JOURNEYS_ADMIN_EMAIL": ADMIN_EMAIL,
        "JOURNEYS_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "JOURNEYS_ADMIN_TOKEN": ADMIN_TOKEN,
    }
    previous = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    base = f"http://127.0.0.1:{port}"
    with nicegui_reset_globals():
        thread = threading.Thread(
            target=lambda: runpy.run_path(str(ROOT / "main.py"), run_name="__main__"), daemon=True
        )
        thread.start()
        try:
            _wait_until_up(base)
            yield base
        finally:
            if hasattr(Server, "instance"):
                Server.instance.should_exit = True
            thread.join(timeout=10)
            for key, value in previous.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@pytest.fixture(scope="module")
def engine(live_server: str) -> Engine:
    """The engine main.py built for the live server (ui.api.mount put it on the app)."""
    return app.state.engine


def _wait_until_up(base: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            if httpx.get(f"{base}/api/v1/journeys", headers=AUTH, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the live server did not answer on {base}")
        time.sleep(0.05)


async def sign_in(page: Page, base: str, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> None:
    """Sign in through the login form, as a person would; back on the journeys list."""
    await page.goto(f"{base}/login")
    await page.fill("[data-login=email]", email)
    await page.fill("[data-login=password]", password)
    await page.click("[data-login=submit]")
    await page.wait_for_url(f"{base}/journeys", timeout=15_000)


async def _page(browser: Browser, errors: list[str]) -> Page:
    context = await browser.new_context(viewport={"width": 1440, "height": 900})
    page = await context.new_page()
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page


@pytest.fixture
async def anonymous_page(live_server: str, chromium_path: str) -> AsyncIterator[Page]:
    """A new headless Chromium page, not signed in; console errors fail the test."""
    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield await _page(browser, errors)
        await browser.close()
    assert not errors, f"JavaScript errors: {errors}"


@pytest.fixture
async def browser_page(anonymous_page: Page, live_server: str) -> Page:
    """A new headless Chromium page signed in as the bootstrap admin; console errors fail the test."""
    await sign_in(anonymous_page, live_server)
    return anonymous_page
