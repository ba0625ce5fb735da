"""The journey monitor in real Chromium: counts pushed live without reload, the customer timeline, and a
screenshot of the demo journey in the middle of a run (/tmp/monitor.png)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from playwright.async_api import Page

from engine import demo
from engine.audience import customers, events
from engine.delivery import dispatcher, responses
from engine.engine import Engine
from engine.journeys import lifecycle
from engine.monitoring import metrics
from engine.runtime import enrollments, entry, runner
from models.audience import CustomerIn, EventIn
from models.journey import JourneyCreate
from tests.browser.conftest import AUTH

pytestmark = pytest.mark.browser

STEPS: list[dict[str, Any]] = [
    {"id": "hold", "type": "wait", "name": "Cooling off", "config": {"duration": 1, "unit": "days"},
     "next": "bye", "position": {"x": 340, "y": 120}},
    {"id": "bye", "type": "exit", "name": "Bye", "config": {"reason": "done"},
     "position": {"x": 700, "y": 120}},
]
SCREENSHOT = "/tmp/monitor.png"
ENGINE_SCREENSHOT = "/tmp/engine_monitor.png"
# Lines of the engine page's live stream that report a runner batch.
BATCH_LINES = ("() => [...document.querySelectorAll('[data-stream] *')]"
               ".filter(e => !e.children.length && / steps? run/.test(e.textContent)).length")


def count_at(step_id: str) -> str:
    return f'[data-step-id="{step_id}"] [data-count="current"]'


async def test_screenshot_of_the_demo_journey_mid_run(
    engine: Engine, live_server: str, browser_page: Page
) -> None:
    page = browser_page
    assert demo.seed_if_empty(engine), "runs first in this module, on the live server's empty database"
    journey_id = lifecycle.list_journeys(engine, search="Welcome the under-30s")["data"][0]["id"]
    while entry.backfill(engine):
        pass
    runner.run_due(engine)
    dispatcher.dispatch_due(engine, limit=1000)
    sent = _sent_deliveries(engine, journey_id)
    for index, delivery_id in enumerate(sent):  # some click, fewer convert, the rest stay silent
        if index % 3 == 0:
            responses.record_response(engine, "click", delivery_id=delivery_id)
        if index % 7 == 0:
            responses.record_response(engine, "conversion", delivery_id=delivery_id)
    purchasers = _customers_of(engine, journey_id)[: len(sent) // 2]
    events.accept(engine, [EventIn(customer_id=customer_id, type="purchase") for customer_id in purchasers])
    runner.run_due(engine)
    dispatcher.dispatch_due(engine, limit=1000)

    await page.goto(f"{live_server}/journeys/{journey_id}/monitor")
    expected = metrics.journey_metrics(engine, journey_id)
    await page.wait_for_function(
        "n => document.querySelector('[data-tile=enrolledNow]')?.textContent.trim() === n",
        arg=f"{expected['totals']['enrolledNow']:,}")
    await page.wait_for_timeout(800)  # let the charts finish their entry animation
    await page.screenshot(path=SCREENSHOT, full_page=True)
    shown = {step["id"]: await page.locator(count_at(step["id"])).inner_text() for step in expected["steps"]}
    assert shown == {step["id"]: str(step["current"]) for step in expected["steps"]}
    pills = [await pill.bounding_box() for pill in await page.locator("[data-edge-count]").all()]
    assert len(pills) == sum(1 for edge in expected["edges"] if edge["target"]), "one count per edge"
    for index, a in enumerate(pills):
        for b in pills[index + 1:]:
            assert a and b
            apart = (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                     or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])
            assert apart, "edge counts never overlap, even between the demo's closely placed steps"


async def test_node_counts_change_live_when_customers_enroll(
    engine: Engine, live_server: str, browser_page: Page
) -> None:
    page = browser_page
    for number in range(50):
        customers.create_customer(engine, CustomerIn(id=f"live{number:02d}", attributes={"tier": "gold"}))
    journey = lifecycle.create_journey(
        engine, JourneyCreate.model_validate({"name": "Live counts", "steps": STEPS}))
    lifecycle.change_status(engine, journey.id, "active")
    await page.goto(f"{live_server}/journeys/{journey.id}/monitor")
    await page.wait_for_selector(count_at("hold"))
    assert await page.locator(count_at("hold")).inner_text() == "0"
    await page.wait_for_timeout(300)  # let the websocket settle: the update must come by push, not by load

    async with httpx.AsyncClient(base_url=live_server, headers=AUTH) as client:
        answer = await client.post(f"/api/v1/journeys/{journey.id}/enroll",
                                   json={"customerIds": [f"live{number:02d}" for number in range(50)]})
    assert answer.status_code in (200, 201), answer.text
    started = asyncio.get_running_loop().time()
    await page.wait_for_function(
        "selector => document.querySelector(selector)?.textContent.trim() === '50'", arg=count_at("hold"),
        timeout=2000)
    assert asyncio.get_running_loop().time() - started < 2.0
    assert await page.locator('[data-tile=enrolledNow]').inner_text() == "50"

    await page.get_by_text("50 enrollments").wait_for(timeout=2000)
    await page.locator("[data-enrollments] tbody tr").first.click()
    timeline = page.locator("[data-timeline]")
    await timeline.wait_for()
    customer = await page.locator("[data-timeline-customer]").inner_text()
    assert customer.startswith("live")
    await timeline.get_by_text("Entered the journey").wait_for()
    await timeline.get_by_text("Now at Cooling off").wait_for()


def _sent_deliveries(engine: Engine, journey_id: str) -> list[str]:
    page = enrollment_page(engine, journey_id)
    return [message["id"] for item in page for message in metrics.enrollment_messages(engine, item["id"])
            if message["status"] == "sent"]


def _customers_of(engine: Engine, journey_id: str) -> list[str]:
    return [item["customerId"] for item in enrollment_page(engine, journey_id) if item["status"] == "active"]


def enrollment_page(engine: Engine, journey_id: str) -> list[dict[str, Any]]:
    return enrollments.list_enrollments(engine, journey_id=journey_id, limit=200)["data"]


async def test_engine_overview_streams_batches_live(
    engine: Engine, live_server: str, browser_page: Page
) -> None:
    page = browser_page
    for number in range(5):
        customers.create_customer(engine, CustomerIn(id=f"eng{number}", attributes={}))
    journey = lifecycle.create_journey(
        engine, JourneyCreate.model_validate({"name": "Engine view", "steps": STEPS}))
    lifecycle.change_status(engine, journey.id, "active")
    await page.goto(f"{live_server}/monitor")
    await page.get_by_text("Engine view").wait_for()
    before = await page.evaluate(BATCH_LINES)
    entry.enroll(engine, journey.id, [f"eng{number}" for number in range(5)])
    await page.get_by_text("5 customers enrolled into Engine view").wait_for(timeout=2000)
    runner.run_due(engine)  # publishes its batch on the bus: the stream shows it without reload
    await page.wait_for_function(f"n => ({BATCH_LINES})() > n", arg=before, timeout=2000)
    await page.wait_for_function(  # the coalesced refresh of the figures follows
        "() => document.querySelector('[data-tile=stepsPerSecond]')?.textContent.trim() !== '0.0'",
        timeout=2000)
    await page.screenshot(path=ENGINE_SCREENSHOT, full_page=True)


async def test_counts_are_right_when_customers_enroll_while_the_page_opens(engine: Engine, live_server: str,
                                                                          browser_page: Page) -> None:
    page = browser_page
    for number in range(30):
        customers.create_customer(engine, CustomerIn(id=f"race{number:02d}", attributes={}))
    journey = lifecycle.create_journey(engine, JourneyCreate.model_validate({"name": "Race", "steps": STEPS}))
    lifecycle.change_status(engine, journey.id, "active")
    opening = asyncio.create_task(page.goto(f"{live_server}/journeys/{journey.id}/monitor"))
    async with httpx.AsyncClient(base_url=live_server, headers=AUTH) as client:
        for batch in range(3):  # before, during and after the page's first render and websocket
            await client.post(f"/api/v1/journeys/{journey.id}/enroll",
                              json={"customerIds": [f"race{batch * 10 + n:02d}" for n in range(10)]})
            await asyncio.sleep(0.05)
    await opening
    await page.wait_for_function(
        "selector => document.querySelector(selector)?.textContent.trim() === '30'", arg=count_at("hold"),
        timeout=2000)
