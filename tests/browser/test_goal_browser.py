"""The monitor's Goal card in real Chromium: an A/B split whose branch B converts better says so in words,
with the rates table and the bar chart drawn (screenshot: /tmp/goal.png)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import Page

from engine.audience import customers, events
from engine.engine import Engine
from engine.journeys import lifecycle
from engine.monitoring import goals
from engine.runtime import enrollments, entry, runner
from models.audience import CustomerIn, EventIn
from models.journey import JourneyCreate

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/goal.png"
STEPS: list[dict[str, Any]] = [
    {"id": "ab", "type": "split", "name": "Subject line test", "position": {"x": 340, "y": 140},
     "config": {"paths": [{"label": "Short", "percent": 50, "targetStepId": "end_a"},
                          {"label": "Long", "percent": 50, "targetStepId": "end_b"}]}},
    {"id": "end_a", "type": "exit", "name": "Sent short", "position": {"x": 680, "y": 60}},
    {"id": "end_b", "type": "exit", "name": "Sent long", "position": {"x": 680, "y": 220}},
]


async def test_goal_card_names_the_winning_branch(
    engine: Engine, live_server: str, browser_page: Page
) -> None:
    page = browser_page
    for number in range(120):
        customers.create_customer(engine, CustomerIn(id=f"ab{number:03d}"))
    journey = lifecycle.create_journey(engine, JourneyCreate.model_validate(
        {"name": "Subject lines", "steps": STEPS, "goal": {"eventType": "purchase", "withinDays": 7}}))
    lifecycle.change_status(engine, journey.id, "active")
    ids = entry.enroll(engine, journey.id, [f"ab{number:03d}" for number in range(120)])["enrollmentIds"]
    runner.run_due(engine)
    # Every third "Short" customer buys, and four of every five "Long" ones.
    taken: dict[str, list[str]] = {}
    for enrollment_id in ids:
        item = enrollments.get_enrollment(engine, enrollment_id)
        label = next(step["outcome"] for step in item["history"] if step["type"] == "split")
        taken.setdefault(label, []).append(item["customerId"])
    buyers = taken["Short"][::3] + [c for index, c in enumerate(taken["Long"]) if index % 5]
    bought_at = engine.now() + timedelta(hours=2)
    events.accept(engine, [EventIn(customer_id=customer_id, type="purchase", occurred_at=bought_at)
                           for customer_id in buyers])
    verdict = goals.journey_goal(engine, journey.id)["splits"][0]["verdict"]["text"]
    assert verdict.startswith("Long converts ")

    await page.goto(f"{live_server}/journeys/{journey.id}/monitor")
    shown = page.locator("[data-goal-verdict]")
    await shown.wait_for(timeout=10_000)
    assert (await shown.inner_text()).strip() == verdict
    card = page.locator("[data-goal-card]")
    await card.get_by_text("purchase within 7 days of entering").wait_for()
    await card.get_by_text("Sent long").first.wait_for()
    await page.locator("[data-goal-chart] canvas").first.wait_for()
    await card.scroll_into_view_if_needed()
    await page.wait_for_timeout(600)  # the bars' entry animation
    await card.screenshot(path=SCREENSHOT)
