"""Enrolling from the UI in real Chromium: on an active journey's monitor, Enroll → pick customers by search,
then a segment → the enrolled counts; the customer's page then shows the journey and, once the engine has
run, its history; the list shows attributes as chips. Screenshots: /tmp/enroll_dialog.png,
/tmp/customer_page.png, /tmp/customers_list.png."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Page

from engine.audience import customers, segments
from engine.engine import Engine
from engine.journeys import lifecycle
from engine.runtime import enrollments, runner
from models.audience import CustomerIn, SegmentIn
from models.journey import JourneyCreate

pytestmark = pytest.mark.browser

STEPS: list[dict[str, Any]] = [
    {"id": "hold", "type": "wait", "name": "Hold on", "config": {"duration": 1, "unit": "days"},
     "next": "bye", "position": {"x": 340, "y": 120}},
    {"id": "bye", "type": "exit", "name": "Bye", "config": {"reason": "done"},
     "position": {"x": 700, "y": 120}},
]


async def test_enroll_by_search_and_segment_then_see_it_on_the_customer_page(
        engine: Engine, live_server: str, browser_page: Page) -> None:
    page = browser_page
    people = (("br_ann", "Ann Lee", 24), ("br_bob", "Bob Stone", 52), ("br_cai", "Cai Berg", 27))
    for cid, name, age in people:
        customers.create_customer(engine, CustomerIn(
            id=cid, attributes={"name": name, "email": f"{cid}@x.test", "age": age}))
    segments.create_segment(engine, SegmentIn(id="br_young", name="Young readers", rule="customer.age < 30"))
    journey = lifecycle.create_journey(engine, JourneyCreate.model_validate({"name": "Browser welcome",
                                                                     "steps": STEPS}))
    lifecycle.change_status(engine, journey.id, "active")

    await page.goto(f"{live_server}/journeys/{journey.id}/monitor")
    enroll = page.locator("button[data-enroll]")
    await enroll.wait_for()
    await page.wait_for_function("() => !document.querySelector('button[data-enroll]').disabled")
    await enroll.click()
    dialog = page.locator("[data-enroll-dialog]")
    await dialog.get_by_text("Enroll customers into Browser welcome").wait_for()

    # By search: type a name, tick the customer found, enroll.
    await dialog.locator("input[data-enroll-search]").fill("ann lee")
    row = dialog.locator("[data-enroll-results] tbody tr", has_text="br_ann")
    await row.wait_for()
    await page.wait_for_function(
        "() => document.querySelectorAll('[data-enroll-results] tbody tr').length === 1")
    await row.locator(".q-checkbox").click()
    await dialog.get_by_text("1 selected:").wait_for()
    await page.screenshot(path="/tmp/enroll_dialog.png")
    await dialog.locator("[data-enroll-submit]").click()
    outcome = dialog.locator("[data-enroll-outcome]")
    await outcome.get_by_text("Enrolled 1 customer.").wait_for()

    # By segment: its two members, one of whom is already in.
    await dialog.locator("[data-enroll-tab=segment]").click()
    await dialog.locator("[data-enroll-segment]").click()
    await page.locator(".q-menu .q-item", has_text="Young readers (2 members)").click()
    await dialog.locator("[data-enroll-submit]").click()
    await dialog.get_by_text("Skipped 1: 1 already in this journey.").wait_for()
    assert await outcome.inner_text() == "Enrolled 1 customer."
    page_of = enrollments.list_enrollments(engine, journey_id=journey.id, limit=10)["data"]
    assert {item["customerId"] for item in page_of} == {"br_ann", "br_cai"}

    # The monitor counts them, pushed live.
    await page.wait_for_function(
        "() => document.querySelector('[data-tile=enrolledNow]')?.textContent.trim() === '2'")

    # The customer's page: the journey (current step by name) and, after the engine ran, its history.
    runner.run_due(engine)
    await page.goto(f"{live_server}/customers/br_cai")
    journeys = page.locator("[data-customer-journeys]")
    link = journeys.get_by_role("link", name="Browser welcome")
    await link.wait_for()
    assert await link.get_attribute("href") == f"/journeys/{journey.id}/monitor"
    await journeys.get_by_text("Hold on").wait_for()
    await page.get_by_text("Browser welcome · Hold on: waiting → Bye").wait_for()
    await page.get_by_text("Entered Browser welcome").wait_for()
    await page.screenshot(path="/tmp/customer_page.png", full_page=True)

    # The list: name and e-mail in their own columns, the other attributes as chips.
    await page.goto(f"{live_server}/customers")
    row = page.locator("tbody tr", has_text="br_cai")
    await row.locator(".q-chip", has_text="age: 27").wait_for()
    assert "Cai Berg" in await row.inner_text()
    await page.screenshot(path="/tmp/customers_list.png")
