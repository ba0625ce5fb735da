"""The monitor's Goal card, its charts' and tables' empty-state notes, under NiceGUI's simulated user."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from nicegui import ui
from nicegui.testing import User

from engine.audience import customers, events
from engine.engine import Engine
from engine.journeys import lifecycle
from engine.monitoring import goals
from engine.runtime import enrollments, entry, runner
from models.audience import CustomerIn, EventIn
from models.journey import JourneyCreate

STEPS: list[dict[str, Any]] = [
    {"id": "ab", "type": "split", "name": "Welcome test", "config": {"paths": [
        {"label": "A", "percent": 50, "targetStepId": "end_a"},
        {"label": "B", "percent": 50, "targetStepId": "end_b"}]}},
    {"id": "end_a", "type": "exit", "name": "Plain"},
    {"id": "end_b", "type": "exit", "name": "Rich"},
]
RETRIES = 100  # the card fills in after the page is up (a timer), off the event loop


def split_journey(engine: Engine, count: int, goal: dict[str, Any] | None) -> str:
    """An active split journey, `count` customers through it, every customer of branch B a buyer."""
    for number in range(count):
        customers.create_customer(engine, CustomerIn(id=f"c{number}"))
    document: dict[str, Any] = {"name": "Goal test", "steps": STEPS}
    if goal:
        document["goal"] = goal
    journey = lifecycle.create_journey(engine, JourneyCreate.model_validate(document))
    lifecycle.change_status(engine, journey.id, "active")
    ids = entry.enroll(engine, journey.id, [f"c{number}" for number in range(count)])["enrollmentIds"]
    runner.run_due(engine)
    buyers = []
    for enrollment_id in ids:
        item = enrollments.get_enrollment(engine, enrollment_id)
        if any(step["type"] == "split" and step["outcome"] == "B" for step in item["history"]):
            buyers.append(EventIn(customer_id=item["customerId"], type="purchase",
                                  occurred_at=engine.now() + timedelta(hours=1)))
    events.accept(engine, buyers)
    return journey.id


def only(user: User, marker: str) -> Any:
    [element] = user.find(marker=marker).elements
    return element


async def test_goal_card_shows_branches_the_winner_and_a_chart(engine: Engine, user: User) -> None:
    journey_id = split_journey(engine, 100, {"eventType": "purchase", "withinDays": 7})
    expected = goals.journey_goal(engine, journey_id)
    (split,) = expected["splits"]
    await user.open(f"/journeys/{journey_id}/monitor")
    await user.should_see(marker="goal-verdict", retries=RETRIES)
    assert only(user, "goal-verdict").text == split["verdict"]["text"]
    assert split["verdict"]["text"].startswith("B converts 100.0 pts better than A (95% CI ")
    await user.should_see(marker="goal-summary", content="purchase within 7 days of entering")
    branches = only(user, "goal-branches")
    assert isinstance(branches, ui.table)
    assert [(row["branch"], row["rate"]) for row in branches.rows] == [("A", "0.0%"), ("B", "100.0%")]
    assert branches.rows[0]["difference"] == "control"
    assert branches.rows[1]["difference"].startswith("+100.0 pts (95% CI ")
    chart = only(user, "goal-chart")
    bars = chart.options["series"][0]["data"]
    assert [bar["value"] for bar in bars] == [0.0, 100.0]
    assert bars[1]["itemStyle"]["color"] != bars[0]["itemStyle"]["color"]  # the winner stands out
    assert "title" not in chart.options
    paths = only(user, "goal-paths")
    assert {row["label"] for row in paths.rows} == {"Exited at Plain", "Exited at Rich"}


async def test_goal_card_explains_how_to_set_a_goal(engine: Engine, user: User) -> None:
    journey_id = split_journey(engine, 2, None)
    await user.open(f"/journeys/{journey_id}/monitor")
    await user.should_see(marker="goal-hint", retries=RETRIES)
    await user.should_see("under Goal, name the event type")
    await user.should_see(marker="goal-summary", content="no goal set")
    user.find(marker="filter-customer").type("nobody")
    await user.should_see("No enrollments match these filters.")


async def test_empty_charts_say_no_data_yet(engine: Engine, user: User) -> None:
    journey = lifecycle.create_journey(engine, JourneyCreate.model_validate({
        "name": "Empty", "goal": {"eventType": "purchase", "withinDays": 3},
        "steps": [{"id": "hello", "type": "send", "name": "Hello",
                   "config": {"channelId": "ch_x", "offerId": "off_x"}}]}))
    await user.open(f"/journeys/{journey.id}/monitor")
    await user.should_see(marker="goal-empty", retries=RETRIES)
    for marker in ("chart-paths", "chart-series", "chart-deliveries", "chart-responses"):
        title = only(user, marker).options.get("title")
        assert title and title["text"] == "No data yet", marker
    assert "messages are sent" in only(user, "chart-responses").options["title"]["subtext"]
    await user.should_see("No enrollments yet: customers enter through")
    await user.should_see("No changes yet.")  # the journey's history, a paged table too
