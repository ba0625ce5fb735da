"""Metrics and engine status driven by the real runtime: enroll, run in virtual time, read the figures."""

from __future__ import annotations

from typing import Any

from engine.audience import customers
from engine.clock import VirtualClock
from engine.decisioning import offers
from engine.delivery import channels_admin, deliveries, dispatcher, responses
from engine.engine import Engine
from engine.journeys import lifecycle
from engine.monitoring import engine_status, metrics
from engine.runtime import enrollments, entry, runner
from models.audience import CustomerIn
from models.channels import ChannelCreate
from models.journey import JourneyCreate
from models.offers import OfferIn

STEPS: list[dict[str, Any]] = [
    {"id": "pause", "type": "wait", "config": {"duration": 1, "unit": "hours"}, "next": "check"},
    {"id": "check", "type": "branch", "config": {"conditions": [
        {"label": "vip", "expression": "customer.vip == true", "targetStepId": "vip_exit"}]}},
    {"id": "vip_exit", "type": "exit", "config": {"reason": "vip_handled"}},
]


def start_journey(engine: Engine, count: int, vip_every: int = 3,
                  steps: list[dict[str, Any]] = STEPS) -> tuple[str, list[str]]:
    for number in range(count):
        vip = number % vip_every == 0
        customers.create_customer(engine, CustomerIn(id=f"c{number}", attributes={"vip": vip}))
    document = JourneyCreate.model_validate({"name": "Runtime", "steps": steps})
    journey = lifecycle.create_journey(engine, document)
    lifecycle.change_status(engine, journey.id, "active")
    ids = entry.enroll(engine, journey.id, [f"c{number}" for number in range(count)])["enrollmentIds"]
    return journey.id, ids


def test_metrics_follow_customers_through_a_running_journey(engine: Engine, clock: VirtualClock) -> None:
    journey_id, _ids = start_journey(engine, 6)
    runner.run_due(engine)
    waiting = metrics.journey_metrics(engine, journey_id)
    now_at = {step["id"]: step["current"] for step in waiting["steps"]}
    assert now_at == {"pause": 6, "check": 0, "vip_exit": 0}
    assert waiting["totals"]["entered"] == 6 and waiting["totals"]["enrolledNow"] == 6
    assert waiting["series"]["entries"][-1] == 6
    clock.advance(hours=1)
    runner.run_due(engine)
    done = metrics.journey_metrics(engine, journey_id)
    assert done["totals"]["enrolledNow"] == 0
    assert done["totals"]["completed"] == 4  # no condition true and no default: completed at the branch
    assert done["totals"]["exitedByReason"] == {"vip_handled": 2}
    edges = {(edge["source"], edge["target"]): edge["count"] for edge in done["edges"]}
    assert edges[("__entry__", "pause")] == 6 and edges[("pause", "check")] == 6
    assert edges[("check", "vip_exit")] == 2
    assert done["series"]["completions"][-1] == 4


def test_manual_exit_shows_in_totals_and_step_counts(engine: Engine, clock: VirtualClock) -> None:
    journey_id, ids = start_journey(engine, 2)
    runner.run_due(engine)
    enrollments.exit_enrollment(engine, ids[0])
    result = metrics.journey_metrics(engine, journey_id)
    assert result["totals"]["enrolledNow"] == 1
    assert result["totals"]["exitedByReason"] == {"manual": 1}


def test_engine_status_sees_the_runner_batches_and_backlog(engine: Engine, clock: VirtualClock) -> None:
    journey_id, _ids = start_journey(engine, 4)
    assert engine_status.engine_status(engine)["backlog"]["due"] == 4  # enrolled, not yet run
    runner.run_due(engine)
    status = engine_status.engine_status(engine)
    assert status["backlog"]["due"] == 0
    assert status["throughput"]["transitions"] >= 4
    row = next(row for row in status["journeys"] if row["journeyId"] == journey_id)
    assert row["enrolledNow"] == 4 and row["lastActivityAt"] is not None
    assert status["recentSteps"][0]["journeyId"] == journey_id


def test_deliveries_and_clicks_of_a_running_journey_reach_its_metrics(
        engine: Engine, clock: VirtualClock) -> None:
    channels_admin.create_channel(engine, ChannelCreate(id="ch_app", name="App", type="in_app"))
    offers.create_offer(engine, OfferIn(id="off_tea", name="Tea"))
    journey_id, _ids = start_journey(engine, 3, steps=[
        {"id": "hello", "type": "send", "config": {"channelId": "ch_app", "offerId": "off_tea"},
         "next": "nap"},
        {"id": "nap", "type": "wait", "config": {"duration": 1, "unit": "days"}},
    ])
    runner.run_due(engine)
    queued = metrics.journey_metrics(engine, journey_id)["responses"]
    assert [(row["stepId"], row["queued"], row["sent"]) for row in queued] == [("hello", 3, 0)]
    dispatcher.dispatch_due(engine)
    first = deliveries.list_deliveries(engine, journey_id=journey_id)["data"][0]
    responses.record_response(engine, "click", delivery_id=first["id"])
    figures = metrics.journey_metrics(engine, journey_id)
    assert figures["deliveries"]["byChannel"] == [
        {"channelId": "ch_app", "channelName": "App", "queued": 0, "sent": 3, "failed": 0, "suppressed": 0,
         "total": 3}]
    assert (figures["responses"][0]["clicks"], figures["responses"][0]["clickRate"]) == (1, 0.3333)
