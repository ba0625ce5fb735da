"""The journey monitor under NiceGUI's simulated user: tiles, table filters, timeline, retry and exit."""

from __future__ import annotations

import asyncio
from typing import Any

from nicegui import ui
from nicegui.testing import User

from engine.audience import customers
from engine.engine import Engine
from engine.journeys import lifecycle
from engine.monitoring import metrics
from engine.runtime import enrollments, entry, runner
from models.audience import CustomerIn
from models.journey import JourneyCreate, JourneyUpdate

# Longer than the page's coalescing delay (0.3 s) plus a metrics read.
SETTLE = 1.0
STEPS: list[dict[str, Any]] = [
    {"id": "welcome", "type": "wait", "name": "Welcome wait", "config": {"duration": 1, "unit": "days"},
     "next": "later"},
    {"id": "later", "type": "wait", "name": "Later", "config": {"duration": 1, "unit": "days"}},
]


def running_journey(engine: Engine, count: int) -> tuple[str, list[str]]:
    """An active journey with `count` customers parked at its first wait."""
    for number in range(count):
        customers.create_customer(engine, CustomerIn(id=f"cust{number}", attributes={}))
    journey = lifecycle.create_journey(
        engine, JourneyCreate.model_validate({"name": "Monitor me", "steps": STEPS}))
    lifecycle.change_status(engine, journey.id, "active")
    ids = entry.enroll(engine, journey.id, [f"cust{number}" for number in range(count)])["enrollmentIds"]
    runner.run_due(engine)
    return journey.id, ids


async def expect_text(user: User, marker: str, text: str) -> None:
    """The element marked `marker` comes to show exactly `text`."""
    await user.should_see(marker=marker, content=text)
    assert [element.text for element in user.find(marker=marker).elements] == [text]


def table_rows(user: User) -> list[dict[str, Any]]:
    [table] = user.find(marker="enrollments").elements
    assert isinstance(table, ui.table)
    return table.rows


async def test_tiles_show_enrolled_and_exited_counts(engine: Engine, user: User) -> None:
    journey_id, ids = running_journey(engine, 3)
    enrollments.exit_enrollment(engine, ids[0], reason="opted_out")
    await user.open(f"/journeys/{journey_id}/monitor")
    await user.should_see("Monitor me")
    await expect_text(user, "tile-enrolledNow", "2")
    await expect_text(user, "tile-entered", "3")
    await expect_text(user, "tile-exited", "1")
    await expect_text(user, "exit-reasons", "opted out: 1")
    await expect_text(user, "bar-welcome", "2")


async def test_unknown_journey_says_so(user: User) -> None:
    await user.open("/journeys/jrn_nothing/monitor")
    await user.should_see("No journey jrn_nothing.")


async def test_table_filters_by_status_step_and_customer(engine: Engine, user: User) -> None:
    journey_id, ids = running_journey(engine, 3)
    enrollments.exit_enrollment(engine, ids[1])
    await user.open(f"/journeys/{journey_id}/monitor")
    await expect_text(user, "enrollments-total", "3 enrollments")
    user.find(marker="filter-status").elements.pop().set_value("exited")
    await expect_text(user, "enrollments-total", "1 enrollment")
    assert [row["customerId"] for row in table_rows(user)] == ["cust1"]
    user.find(marker="filter-status").elements.pop().set_value(None)
    user.find(marker="filter-step").elements.pop().set_value("welcome")
    await expect_text(user, "enrollments-total", "3 enrollments")
    user.find(marker="filter-customer").type("cust2")
    await expect_text(user, "enrollments-total", "1 enrollment")
    assert [row["customerId"] for row in table_rows(user)] == ["cust2"]


async def test_timeline_shows_each_step_with_its_outcome(engine: Engine, user: User) -> None:
    journey_id, _ids = running_journey(engine, 1)
    await user.open(f"/journeys/{journey_id}/monitor")
    await expect_text(user, "enrollments-total", "1 enrollment")
    user.find(marker="enrollments").trigger("rowClick", [{}, table_rows(user)[0], 0])
    await expect_text(user, "timeline-customer", "cust0")
    await user.should_see("Welcome wait — waiting")
    await expect_text(user, "timeline-sentence", "Wait 1 day")
    await expect_text(user, "exit", "Exit by hand")


async def test_exit_by_hand_from_the_timeline_ends_the_enrollment(engine: Engine, user: User) -> None:
    journey_id, ids = running_journey(engine, 2)
    await user.open(f"/journeys/{journey_id}/monitor")
    await expect_text(user, "enrollments-total", "2 enrollments")
    row = next(row for row in table_rows(user) if row["id"] == ids[0])
    user.find(marker="enrollments").trigger("rowClick", [{}, row, 0])
    await user.should_see(marker="exit")
    user.find(marker="exit").click()
    await expect_text(user, "tile-exited", "1")
    assert [enrollments.get_enrollment(engine, i)["status"] for i in ids] == ["exited", "active"]
    await expect_text(user, "tile-enrolledNow", "1")


async def test_retry_from_the_timeline_reactivates_a_failed_enrollment(engine: Engine, user: User) -> None:
    customers.create_customer(engine, CustomerIn(id="odd", attributes={"points": "lots"}))
    steps = [{"id": "bump", "type": "update", "name": "Bump points",
              "config": {"operations": [{"op": "increment", "attribute": "points", "value": 1}]}}]
    journey = lifecycle.create_journey(
        engine, JourneyCreate.model_validate({"name": "Fails", "steps": steps}))
    lifecycle.change_status(engine, journey.id, "active")
    [enrollment_id] = entry.enroll(engine, journey.id, ["odd"])["enrollmentIds"]
    runner.run_due(engine)
    await user.open(f"/journeys/{journey.id}/monitor")
    await expect_text(user, "tile-failed", "1")
    user.find(marker="enrollments").trigger("rowClick", [{}, table_rows(user)[0], 0])
    await user.should_see("Bump points — failed")
    [sentence] = user.find(marker="timeline-sentence").elements
    assert sentence.text.startswith("Update 'Bump points' failed: ")
    user.find(marker="retry").click()
    await expect_text(user, "tile-failed", "0")
    assert enrollments.get_enrollment(engine, enrollment_id)["status"] == "active"


async def test_a_burst_of_engine_deltas_becomes_one_refresh(
    engine: Engine, user: User, monkeypatch: Any
) -> None:
    journey_id, _ids = running_journey(engine, 1)
    await user.open(f"/journeys/{journey_id}/monitor")
    await expect_text(user, "tile-enrolledNow", "1")
    await asyncio.sleep(SETTLE)  # the page's own on-connect re-read is done
    reads: list[str] = []
    original = metrics.journey_metrics
    monkeypatch.setattr(metrics, "journey_metrics", lambda *args: reads.append("read") or original(*args))
    for _ in range(25):
        engine.live.publish({"kind": "batch", "at": "2026-01-05T09:00:00.000Z", "transitions": 1,
                      "journeys": [journey_id], "errors": 0})
    engine.live.publish({"kind": "enrolled", "journeyId": "jrn_someone_else", "count": 5})
    await asyncio.sleep(SETTLE)
    assert reads == ["read"]



async def test_a_new_version_redraws_the_canvas_on_the_next_delta(engine: Engine, user: User) -> None:
    journey_id, _ids = running_journey(engine, 1)
    await user.open(f"/journeys/{journey_id}/monitor")
    await expect_text(user, "tile-enrolledNow", "1")
    lifecycle.change_status(engine, journey_id, "paused")
    extra = {"id": "last", "type": "wait", "name": "Last wait", "config": {"duration": 1, "unit": "days"}}
    steps = [STEPS[0], {**STEPS[1], "next": "last"}, extra]
    lifecycle.update_journey(engine, journey_id, JourneyUpdate.model_validate({"steps": steps}))
    engine.live.publish({"kind": "batch", "at": "2026-01-05T09:00:00.000Z", "transitions": 0,
                  "journeys": [journey_id], "errors": 0})
    await asyncio.sleep(SETTLE)
    [canvas] = user.find(marker="monitor-canvas").elements
    assert [node["id"] for node in canvas.props["nodes"]] == ["__entry__", "welcome", "later", "last"]


async def test_series_window_switches_to_five_minute_buckets(engine: Engine, user: User) -> None:
    journey_id, _ids = running_journey(engine, 2)
    await user.open(f"/journeys/{journey_id}/monitor")
    await expect_text(user, "tile-enrolledNow", "2")
    [chart] = user.find(marker="chart-series").elements
    assert len(chart.options["xAxis"]["data"]) == 24
    user.find(marker="series-window").elements.pop().set_value(1)
    await asyncio.sleep(SETTLE)
    assert len(chart.options["xAxis"]["data"]) == 12
    assert sum(chart.options["series"][0]["data"]) == 2


async def test_header_shows_segment_enrollment_until_it_is_done(engine: Engine, user: User) -> None:
    from engine.audience import segments
    from models.audience import SegmentIn

    for number in range(3):
        customers.create_customer(engine, CustomerIn(id=f"vip{number}", attributes={"vip": True}))
    segments.create_segment(engine, SegmentIn(id="vips", name="VIPs", rule="customer.vip == true"))
    document = {"name": "Segment entry", "steps": STEPS, "entryConditions": {"segmentId": "vips"}}
    journey = lifecycle.create_journey(engine, JourneyCreate.model_validate(document))
    lifecycle.change_status(engine, journey.id, "active")
    entry.backfill(engine, limit=2)
    await user.open(f"/journeys/{journey.id}/monitor")
    await expect_text(user, "backfill", "enrolling segment vips: 2 so far")
    entry.backfill(engine, limit=2)
    engine.live.publish({"kind": "enrolled", "journeyId": journey.id, "count": 1})
    await asyncio.sleep(SETTLE)
    await user.should_not_see(marker="backfill")
