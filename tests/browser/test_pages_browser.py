"""The list pages in real Chromium with the demo data: each draws its rows (a table slot bug once blanked
/deliveries only in a real browser), and none logs a console error (the fixture fails the test on one)."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from engine import demo
from engine.audience import customers, segments
from engine.decisioning import offers
from engine.delivery import channels_admin, deliveries, dispatcher
from engine.engine import Engine
from engine.runtime import entry, runner

pytestmark = pytest.mark.browser


async def test_list_pages_show_their_rows_without_console_errors(
    engine: Engine, live_server: str, browser_page: Page
) -> None:
    assert demo.seed_if_empty(engine), "runs on this module's own empty database"
    while entry.backfill(engine):  # the demo journey's segment members enter it
        pass
    runner.run_due(engine)
    dispatcher.dispatch_due(engine, limit=1000)
    first = {  # path -> a value one of its rows shows
        "/customers": customers.list_customers(engine, limit=1)["data"][0]["id"],
        "/segments": segments.list_segments(engine, limit=1)["data"][0]["name"],
        "/offers": offers.list_offers(engine, limit=1)["data"][0]["name"],
        "/decision-flows": offers.list_decision_flows(engine, limit=1)["data"][0]["name"],
        "/deliveries": deliveries.list_deliveries(engine, limit=1)["data"][0]["customerId"],
        "/monitor": "Welcome the under-30s",
    }
    page = browser_page
    for path, value in first.items():
        await page.goto(f"{live_server}{path}")
        row = page.locator(".q-table tbody tr").filter(has_text=value).first
        await row.wait_for(timeout=3000)
        assert await row.is_visible(), f"{path} shows a row with {value!r}"
    channel = channels_admin.list_channels(engine, limit=1)["data"][0]
    await page.goto(f"{live_server}/channels")
    await page.get_by_text(channel["name"], exact=True).wait_for(timeout=3000)
