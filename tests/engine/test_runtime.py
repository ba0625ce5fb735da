"""The runtime in virtual time: entry, waits, lifecycle (pause/resume/archive), maxDuration and counters."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine.audience import customers, events
from engine.clock import VirtualClock
from engine.engine import Engine
from engine.errors import Conflict, Invalid, NotFound
from engine.journeys import lifecycle
from engine.monitoring import metrics
from engine.runtime import enrollments, entry, runner
from models.audience import CustomerIn, EventIn
from models.enrollment import EdgeCounter, JourneyCounter, StepCounter
from models.journey import JourneyCreate

# ---- helpers shared by the runtime test modules ----------------------------------------------------------


def make_customers(engine: Engine, *ids: str, **attributes: Any) -> None:
    for customer_id in ids:
        customers.create_customer(engine, CustomerIn(id=customer_id, attributes=dict(attributes)))


def make_journey(engine: Engine, steps: list[dict[str, Any]], activate: bool = True, **fields: Any) -> str:
    data = {"name": fields.pop("name", "Test journey"), "steps": steps, **fields}
    journey = lifecycle.create_journey(engine, JourneyCreate.model_validate(data))
    if activate:
        lifecycle.change_status(engine, journey.id, "active")
    return journey.id


def enroll(engine: Engine, journey_id: str, *customer_ids: str) -> list[str]:
    return entry.enroll(engine, journey_id, list(customer_ids))["enrollmentIds"]


def state(engine: Engine, enrollment_id: str) -> dict[str, Any]:
    return enrollments.get_enrollment(engine, enrollment_id)


def journey_counters(engine: Engine, journey_id: str) -> dict[str, Any]:
    with engine.session() as s:
        steps = {
            row.step_id: (row.current, row.passed)
            for row in s.execute(select(StepCounter).where(StepCounter.journey_id == journey_id)).scalars()
        }
        edges = {
            (row.source, row.target): row.count
            for row in s.execute(select(EdgeCounter).where(EdgeCounter.journey_id == journey_id)).scalars()
        }
        totals = {
            row.name: row.value
            for row in s.execute(
                select(JourneyCounter).where(JourneyCounter.journey_id == journey_id)
            ).scalars()
        }
    return {"steps": steps, "edges": edges, "totals": totals}


def wait(
    step_id: str, duration: int, unit: str, next_step: str | None = None, **config: Any
) -> dict[str, Any]:
    return {
        "id": step_id,
        "type": "wait",
        "config": {"duration": duration, "unit": unit, **config},
        "next": next_step,
    }


def exit_step(step_id: str, reason: str = "done") -> dict[str, Any]:
    return {"id": step_id, "type": "exit", "config": {"reason": reason}}


# ---- waits ----------------------------------------------------------------------------------------------


def test_waits_of_minutes_hours_and_days_park_until_their_deadline(
    engine: Engine, clock: VirtualClock
) -> None:
    make_customers(engine, "c1")
    journey_id = make_journey(
        engine, [wait("w1", 30, "minutes", "w2"), wait("w2", 2, "hours", "w3"), wait("w3", 1, "days")]
    )
    start = clock.now()
    [eid] = enroll(engine, journey_id, "c1")
    runner.run_due(engine)
    current = state(engine, eid)
    assert (current["status"], current["stepId"]) == ("active", "w1")
    assert current["nextRunAt"] == "2026-01-05T09:30:00.000Z"
    clock.advance(minutes=29)
    runner.run_due(engine)
    assert state(engine, eid)["stepId"] == "w1"
    clock.advance(minutes=1)
    runner.run_due(engine)
    current = state(engine, eid)
    assert (current["stepId"], current["nextRunAt"]) == ("w2", "2026-01-05T11:30:00.000Z")
    clock.advance(hours=2)
    runner.run_due(engine)
    current = state(engine, eid)
    assert (current["stepId"], current["nextRunAt"]) == ("w3", "2026-01-06T11:30:00.000Z")
    clock.advance(days=1)
    runner.run_due(engine)
    final = state(engine, eid)
    assert (final["status"], final["nextRunAt"]) == ("completed", None)
    assert [(item["stepId"], item["at"]) for item in final["history"]] == [
        ("w1", "2026-01-05T09:00:00.000Z"),
        ("w2", "2026-01-05T09:30:00.000Z"),
        ("w3", "2026-01-05T11:30:00.000Z"),
    ]
    assert start < clock.now()


def test_until_event_resumes_a_wait_early_and_exposes_the_event(
    engine: Engine, clock: VirtualClock
) -> None:
    make_customers(engine, "c1", "c2")
    journey_id = make_journey(
        engine, [
            wait("w", 3, "days", "check", untilEvent="purchase"),
            {
                "id": "check",
                "type": "branch",
                "config": {
                    "conditions": [
                        {
                            "label": "bought",
                            "expression": "event != null && event.properties.amount > 10",
                            "targetStepId": "big",
                        }
                    ],
                    "defaultStepId": "small",
                },
            },
            exit_step("big", "big_buyer"),
            exit_step("small", "no_purchase"),
        ]
    )
    first, second = enroll(engine, journey_id, "c1", "c2")
    runner.run_due(engine)
    clock.advance(hours=5)
    events.accept(engine, [EventIn(customerId="c1", type="purchase", properties={"amount": 25})])
    runner.run_due(engine)
    assert (state(engine, first)["status"], state(engine, first)["exitReason"]) == ("exited", "big_buyer")
    assert state(engine, second)["stepId"] == "w"
    clock.advance(days=3)
    runner.run_due(engine)
    assert state(engine, second)["exitReason"] == "no_purchase"


# ---- entry and re-entry -----------------------------------------------------------------------------------


def test_manual_enroll_skips_unknown_and_duplicate_customers(engine: Engine) -> None:
    make_customers(engine, "c1")
    journey_id = make_journey(engine, [wait("w", 1, "days")])
    answer = entry.enroll(engine, journey_id, ["c1", "ghost", "c1"])
    assert (answer["enrolled"], answer["skipped"]) == (1, 2)
    assert {item["reason"] for item in answer["skippedCustomers"]} == {"unknown_customer", "duplicate"}
    with pytest.raises(NotFound):
        customers.get_customer(engine, "ghost")  # skipped, never created


@pytest.mark.parametrize(
    ("policy", "second_entry", "active_after"),
    [("skip_if_active", 0, 1), ("never", 0, 1), ("allow_multiple", 1, 2), ("restart", 1, 1)],
)
def test_reentry_policy_while_enrolled(
    engine: Engine, clock: VirtualClock, policy: str, second_entry: int, active_after: int
) -> None:
    make_customers(engine, "c1")
    journey_id = make_journey(engine, [wait("w", 1, "days")], entryConditions={"reentry": policy})
    [first] = enroll(engine, journey_id, "c1")
    clock.advance(minutes=1)
    assert entry.enroll(engine, journey_id, ["c1"])["enrolled"] == second_entry
    page = enrollments.list_enrollments(engine, journey_id=journey_id, status="active")
    assert page["pagination"]["total"] == active_after
    if policy == "restart":
        assert (state(engine, first)["status"], state(engine, first)["exitReason"]) == ("exited", "restarted")


def test_never_refuses_reentry_after_completion_but_skip_if_active_allows_it(engine: Engine) -> None:
    make_customers(engine, "c1")
    never = make_journey(engine, [exit_step("x")], name="never", entryConditions={"reentry": "never"})
    again = make_journey(engine, [exit_step("x")], name="again")
    for journey_id in (never, again):
        enroll(engine, journey_id, "c1")
    runner.run_due(engine)
    assert entry.enroll(engine, never, ["c1"])["skippedCustomers"] == [
        {"customerId": "c1", "reason": "already_enrolled"}
    ]
    assert entry.enroll(engine, again, ["c1"])["enrolled"] == 1


def test_cooldown_hours_hold_back_reentry(engine: Engine, clock: VirtualClock) -> None:
    make_customers(engine, "c1")
    journey_id = make_journey(
        engine, [exit_step("x")], entryConditions={"reentry": "allow_multiple", "cooldownHours": 24}
    )
    enroll(engine, journey_id, "c1")
    clock.advance(hours=23)
    assert entry.enroll(engine, journey_id, ["c1"])["skippedCustomers"][0]["reason"] == "cooldown"
    clock.advance(hours=1, seconds=1)
    assert entry.enroll(engine, journey_id, ["c1"])["enrolled"] == 1


def test_enroll_requires_an_active_journey(engine: Engine) -> None:
    make_customers(engine, "c1")
    draft = make_journey(engine, [exit_step("x")], activate=False)
    with pytest.raises(Conflict):
        entry.enroll(engine, draft, ["c1"])
    with pytest.raises(NotFound):
        entry.enroll(engine, "jrn_nope", ["c1"])


def test_event_entry_honours_type_condition_and_policy(engine: Engine) -> None:
    make_customers(engine, "de", country="DE")
    make_customers(engine, "fr", country="FR")
    journey_id = make_journey(
        engine, [wait("w", 1, "days")],
        entryConditions={
            "eventType": "signup",
            "condition": "customer.country == 'DE' && event.properties.plan == 'pro'",
        },
    )
    events.accept(
        engine, [
            EventIn(customerId="de", type="signup", properties={"plan": "pro"}),
            EventIn(customerId="fr", type="signup", properties={"plan": "pro"}),
            EventIn(customerId="de", type="login", properties={"plan": "pro"}),
        ]
    )
    events.accept(engine, [EventIn(customerId="de", type="signup", properties={"plan": "pro"})])
    rows = enrollments.list_enrollments(engine, journey_id=journey_id)["data"]
    assert [row["customerId"] for row in rows] == ["de"]


def test_segment_entry_on_activation_in_batches_and_on_join(engine: Engine) -> None:
    from engine.audience import segments
    from models.audience import SegmentIn

    make_customers(engine, "a1", "a2", "a3", vip=True)
    make_customers(engine, "b1", vip=False)
    segment = segments.create_segment(engine, SegmentIn(id="vips", name="VIPs", rule="customer.vip == true"))
    journey_id = make_journey(engine, [wait("w", 1, "days")], entryConditions={"segmentId": segment["id"]})
    assert entry.backfill(engine, limit=2) == 2
    assert metrics.journey_metrics(engine, journey_id)["backfill"] == {
        "segmentId": "vips",
        "enrolled": 2,
        "skipped": 0,
        "done": False,
    }
    entry.backfill(engine, limit=2)
    assert metrics.journey_metrics(engine, journey_id)["backfill"]["done"] is True
    assert enrollments.list_enrollments(engine, journey_id=journey_id)["pagination"]["total"] == 3
    customers.update_customer(engine, "b1", customers_update({"vip": True}))
    listed = enrollments.list_enrollments(engine, journey_id=journey_id)["data"]
    assert {row["customerId"] for row in listed} == {
        "a1",
        "a2",
        "a3",
        "b1",
    }


def customers_update(attributes: dict[str, Any]) -> Any:
    from models.audience import CustomerUpdate

    return CustomerUpdate(attributes=attributes)


# ---- lifecycle --------------------------------------------------------------------------------------------


def test_paused_journey_does_not_advance_or_enroll_and_resume_continues(
    engine: Engine, clock: VirtualClock
) -> None:
    make_customers(engine, "c1", "c2")
    journey_id = make_journey(engine, [wait("w", 1, "hours", "x"), exit_step("x")])
    [eid] = enroll(engine, journey_id, "c1")
    runner.run_due(engine)
    lifecycle.change_status(engine, journey_id, "paused")
    clock.advance(hours=2)
    runner.run_due(engine)
    assert state(engine, eid)["stepId"] == "w"
    with pytest.raises(Conflict):
        entry.enroll(engine, journey_id, ["c2"])
    lifecycle.change_status(engine, journey_id, "active")
    runner.run_due(engine)
    assert state(engine, eid)["status"] == "exited"


def test_resume_with_extend_waits_shifts_deadlines_by_the_paused_time(
    engine: Engine, clock: VirtualClock
) -> None:
    make_customers(engine, "c1")
    journey_id = make_journey(engine, [wait("w", 1, "hours")])
    [eid] = enroll(engine, journey_id, "c1")
    runner.run_due(engine)
    clock.advance(minutes=20)
    lifecycle.change_status(engine, journey_id, "paused")
    clock.advance(hours=3)
    lifecycle.change_status(engine, journey_id, "active", extend_waits=True)
    assert state(engine, eid)["nextRunAt"] == "2026-01-05T13:00:00.000Z"
    clock.advance(minutes=39)
    runner.run_due(engine)
    assert state(engine, eid)["status"] == "active"
    clock.advance(minutes=1)
    runner.run_due(engine)
    assert state(engine, eid)["status"] == "completed"


def test_archive_exits_everyone_with_journey_archived(engine: Engine) -> None:
    make_customers(engine, "c1", "c2")
    journey_id = make_journey(engine, [wait("w", 1, "days")])
    ids = enroll(engine, journey_id, "c1", "c2")
    runner.run_due(engine)
    lifecycle.change_status(engine, journey_id, "archived")
    assert {(state(engine, eid)["status"], state(engine, eid)["exitReason"]) for eid in ids} == {
        ("exited", "journey_archived")
    }
    counts = journey_counters(engine, journey_id)
    assert counts["steps"]["w"] == (0, 2)
    assert counts["totals"]["exited:journey_archived"] == 2


def test_max_duration_exits_whatever_the_enrollment_waits_on(engine: Engine, clock: VirtualClock) -> None:
    make_customers(engine, "c1")
    journey_id = make_journey(engine, [wait("w", 40, "days")], maxDuration=30)
    [eid] = enroll(engine, journey_id, "c1")
    runner.run_due(engine)
    clock.advance(days=29)
    assert runner.sweep(engine) == 0
    clock.advance(days=1, seconds=1)
    assert runner.sweep(engine) == 1
    assert (state(engine, eid)["status"], state(engine, eid)["exitReason"]) == ("exited", "max_duration")
    assert state(engine, eid)["history"][-1]["outcome"] == "exited"


def test_counters_follow_every_move(engine: Engine, clock: VirtualClock) -> None:
    make_customers(engine, "c1", "c2", "c3")
    journey_id = make_journey(engine, [wait("w", 1, "hours", "x"), exit_step("x", "bye")])
    enroll(engine, journey_id, "c1", "c2", "c3")
    runner.run_due(engine)
    counts = journey_counters(engine, journey_id)
    assert counts["steps"]["w"] == (3, 3)
    assert counts["edges"][("__entry__", "w")] == 3
    clock.advance(hours=1)
    runner.run_due(engine)
    counts = journey_counters(engine, journey_id)
    assert counts["steps"] == {"w": (0, 3), "x": (0, 3)}
    assert counts["edges"][("w", "x")] == 3 and counts["edges"][("x", "")] == 3
    assert counts["totals"] == {"entered": 3, "exited": 3, "exited:bye": 3}


def test_lost_lease_is_retaken_after_expiry(engine: Engine, clock: VirtualClock) -> None:
    make_customers(engine, "c1")
    journey_id = make_journey(engine, [exit_step("x")])
    [eid] = enroll(engine, journey_id, "c1")
    assert runner._claim(engine, 10, clock.now()) == [eid]  # a worker claims, then dies before its batch
    assert runner.run_due(engine) == 0
    clock.advance(seconds=runner.LEASE.total_seconds() + 1)
    assert runner.run_due(engine) == 1
    assert state(engine, eid)["status"] == "exited"


def test_after_a_paused_edit_in_flight_customers_continue_on_the_new_version(
    engine: Engine, clock: VirtualClock
) -> None:
    from models.journey import JourneyUpdate

    make_customers(engine, "c1")
    journey_id = make_journey(engine, [wait("w", 1, "hours", "x"), exit_step("x", "old")])
    [eid] = enroll(engine, journey_id, "c1")
    runner.run_due(engine)
    lifecycle.change_status(engine, journey_id, "paused")
    steps = [wait("w", 1, "hours", "y"), exit_step("y", "new")]
    lifecycle.update_journey(engine, journey_id, JourneyUpdate.model_validate({"steps": steps}))
    lifecycle.change_status(engine, journey_id, "active")
    clock.advance(hours=1)
    runner.run_due(engine)
    final = state(engine, eid)
    assert (final["exitReason"], final["version"]) == ("new", 2)
    assert [(item["stepId"], item["version"]) for item in final["history"]] == [("w", 1), ("y", 2)]


def test_paused_journey_ignores_event_entry(engine: Engine) -> None:
    make_customers(engine, "c1")
    journey_id = make_journey(engine, [wait("w", 1, "days")], entryConditions={"eventType": "signup"})
    lifecycle.change_status(engine, journey_id, "paused")
    events.accept(engine, [EventIn(customerId="c1", type="signup")])
    assert enrollments.list_enrollments(engine, journey_id=journey_id)["pagination"]["total"] == 0
    lifecycle.change_status(engine, journey_id, "active")
    events.accept(engine, [EventIn(customerId="c1", type="signup")])
    assert enrollments.list_enrollments(engine, journey_id=journey_id)["pagination"]["total"] == 1


def test_batches_and_enrollments_are_published_on_the_live_bus(engine: Engine) -> None:

    make_customers(engine, "c1", "c2")
    journey_id = make_journey(engine, [wait("w", 1, "days")])
    enroll(engine, journey_id, "c1", "c2")
    runner.run_due(engine)
    batch, enrolled = engine.live.recent(2)
    assert enrolled == {"kind": "enrolled", "journeyId": journey_id, "count": 2}
    assert {key: batch[key] for key in ("kind", "transitions", "journeys", "errors")} == {
        "kind": "batch", "transitions": 2, "journeys": [journey_id], "errors": 0}


def test_simulating_an_unsaved_document(engine: Engine) -> None:
    from engine.runtime import simulator

    steps = [wait("w", 2, "hours", "x"), exit_step("x", "bye")]
    document = {"name": "draft", "maxDuration": 30, "steps": steps}
    result = simulator.simulate(engine, document=document, customer_attributes={"tier": "gold"})
    assert result["endedAs"] == "exited"
    assert [(item["stepId"], item["at"]) for item in result["trace"]] == [
        ("w", "2026-01-05T09:00:00.000Z"), ("x", "2026-01-05T11:00:00.000Z")]
    with pytest.raises(Invalid, match="steps"):
        simulator.simulate(engine, document={"steps": [{"id": "bad id!", "type": "wait"}]})
