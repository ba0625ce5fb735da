"""The /monitor engine overview under NiceGUI's simulated user."""

from __future__ import annotations

from typing import Any

from nicegui import ui
from nicegui.testing import User

from engine.audience import customers
from engine.engine import Engine
from engine.journeys import lifecycle
from engine.runtime import entry
from models.audience import CustomerIn
from models.journey import JourneyCreate

STEPS: list[dict[str, Any]] = [
    {"id": "hold", "type": "wait", "name": "Hold", "config": {"duration": 1, "unit": "days"}},
]


async def expect_text(user: User, marker: str, text: str) -> None:
    await user.should_see(marker=marker, content=text)
    assert [element.text for element in user.find(marker=marker).elements] == [text]


def journey_with_due_customers(engine: Engine, count: int) -> str:
    """An active journey whose `count` enrollments are due (enrolled, not yet run: the engine is off)."""
    for number in range(count):
        customers.create_customer(engine, CustomerIn(id=f"c{number}", attributes={}))
    journey = lifecycle.create_journey(
        engine, JourneyCreate.model_validate({"name": "Busy journey", "steps": STEPS}))
    lifecycle.change_status(engine, journey.id, "active")
    entry.enroll(engine, journey.id, [f"c{number}" for number in range(count)])
    return journey.id


async def test_overview_shows_backlog_and_per_journey_activity(engine: Engine, user: User) -> None:
    journey_id = journey_with_due_customers(engine, 3)
    await user.open("/monitor")
    await expect_text(user, "tile-due", "3")
    [table] = user.find(marker="journey-activity").elements
    assert isinstance(table, ui.table)
    rows = [(row["journeyId"], row["name"], row["due"]) for row in table.rows]
    assert rows == [(journey_id, "Busy journey", 3)]


async def test_live_stream_shows_published_batches_and_refreshes_throughput(
    engine: Engine, user: User
) -> None:
    await user.open("/monitor")
    await expect_text(user, "tile-stepsPerSecond", "0.0")
    engine.live.publish({"kind": "batch", "at": engine.now().isoformat() + "Z", "transitions": 120,
                         "journeys": ["jrn_x"], "errors": 0})
    await user.should_see("120 steps run in jrn_x")
    await expect_text(user, "tile-stepsPerSecond", "2.0")
    # In words, journeys listed without a Python list's brackets and quotes.
    engine.live.publish({"kind": "deliveries", "at": engine.now().isoformat() + "Z", "attempted": 3,
                  "journeys": ["jrn_x", "jrn_y"]})
    await user.should_see("3 messages sent or tried for jrn_x and jrn_y")
