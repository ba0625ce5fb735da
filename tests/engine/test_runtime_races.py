"""Races between the runner and everything else: entry caused by a step, lost write-backs, journeys paused
between claim and batch, transient database errors, backfills, customer deletion and scheduler leases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from engine import signals
from engine.audience import customers, segments
from engine.clock import VirtualClock
from engine.engine import Engine
from engine.journeys import lifecycle
from engine.journeys.steps.update import KIND as update_step
from engine.runtime import entry, runner
from models.audience import SegmentIn
from models.channels import Delivery
from models.enrollment import Enrollment, EnrollmentHistory
from tests.delivery_kit import seed_channel, seed_offer
from tests.engine.test_runtime import (
    enroll,
    exit_step,
    journey_counters,
    make_customers,
    make_journey,
    state,
    wait,
)

RESTART_STEPS: list[dict[str, Any]] = [
    {"id": "tag", "type": "update", "config": {"operations": [{"op": "addSegment", "segmentId": "vip"}]},
     "next": "hold"},
    {"id": "hold", "type": "send", "config": {"channelId": "ch_app", "offerId": "off_tea"}, "next": "bye"},
    exit_step("bye"),
]


def restart_journey(engine: Engine) -> str:
    """The issue's scenario: entry by static segment `vip` with restart; the first step adds to `vip`."""
    segments.create_segment(engine, SegmentIn(id="vip", name="VIP", static=True))
    seed_channel(engine, "ch_app", "in_app", {})
    seed_offer(engine, "off_tea")
    return make_journey(engine, RESTART_STEPS, entryConditions={"segmentId": "vip", "reentry": "restart"})


def deliveries(engine: Engine) -> list[Delivery]:
    with engine.session() as s:
        return list(s.execute(select(Delivery)).scalars())


def history_after_end(engine: Engine) -> list[tuple[str, str]]:
    """(enrollment, step) of every history row written after its enrollment ended."""
    with engine.session() as s:
        rows = s.execute(
            select(EnrollmentHistory.enrollment_id, EnrollmentHistory.step_id)
            .join(Enrollment, Enrollment.id == EnrollmentHistory.enrollment_id)
            .where(Enrollment.ended_at.is_not(None), EnrollmentHistory.at > Enrollment.ended_at)  # type: ignore[union-attr]
        ).all()
    return [tuple(row) for row in rows]


def test_a_step_joining_its_own_entry_segment_sends_once_and_keeps_counters_whole(engine: Engine) -> None:
    make_customers(engine, "c1")
    journey_id = restart_journey(engine)
    enroll(engine, journey_id, "c1")
    runner.run_due(engine)
    runner.run_due(engine)
    assert len(deliveries(engine)) == 1
    assert history_after_end(engine) == []
    steps = journey_counters(engine, journey_id)["steps"]
    assert all(current >= 0 for current, _passed in steps.values()), steps
    assert steps["hold"] == (0, 1)
    assert steps["tag"] == (0, 1)


def test_a_step_joining_another_journeys_entry_segment_enrolls_after_the_batch(engine: Engine) -> None:
    make_customers(engine, "c1")
    segments.create_segment(engine, SegmentIn(id="vip", name="VIP", static=True))
    target = make_journey(engine, [wait("w", 1, "days")], name="VIP welcome",
                          entryConditions={"segmentId": "vip"})
    source = make_journey(engine, [*RESTART_STEPS[:1], exit_step("hold")], name="Tagger")
    enroll(engine, source, "c1")
    runner.run_due(engine)
    assert journey_counters(engine, target)["steps"]["w"] == (1, 1)  # entered, and now waiting
    assert history_after_end(engine) == []


def test_a_journey_paused_between_claim_and_batch_does_not_advance(engine: Engine) -> None:
    make_customers(engine, "c1")
    journey_id = make_journey(engine, [wait("w", 1, "days", "bye"), exit_step("bye")])
    enrollment_id = enroll(engine, journey_id, "c1")[0]
    moment = engine.now()
    assert runner._claim(engine, 10, moment) == [enrollment_id]
    lifecycle.change_status(engine, journey_id, "paused")
    runner._run_batch(engine, [enrollment_id], moment)
    assert (state(engine, enrollment_id)["stepId"], state(engine, enrollment_id)["history"]) == ("w", [])
    with engine.session() as s:  # and its lease is given back, so it is not held until the lease runs out
        assert s.get(Enrollment, enrollment_id).lease_owner is None  # type: ignore[union-attr]


def test_a_lost_write_back_rolls_the_batch_back_and_runs_it_again(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    make_customers(engine, "c1")
    segments.create_segment(engine, SegmentIn(id="vip", name="VIP", static=True))
    journey_id = make_journey(engine, [*RESTART_STEPS[:1], exit_step("hold")])
    enrollment_id = enroll(engine, journey_id, "c1")[0]
    execute, raced = update_step.execute, []

    def racing(step: Any, run: Any) -> Any:
        if not raced:  # once: another writer takes the row while the step runs
            raced.append(run.enrollment_id)
            run.session.execute(update(Enrollment).where(Enrollment.id == run.enrollment_id)
                                .values(lease_owner="someone else"))
        return execute(step, run)

    monkeypatch.setattr(update_step, "execute", racing)
    assert runner.advance(engine) == 1
    assert raced == [enrollment_id]
    moved = state(engine, enrollment_id)
    assert (moved["status"], [item["stepId"] for item in moved["history"]]) == ("exited", ["tag", "hold"])
    assert journey_counters(engine, journey_id)["steps"] == {"tag": (0, 1), "hold": (0, 1)}


def deadlock() -> OperationalError:
    class Deadlock(Exception):
        sqlstate = "40P01"

    return OperationalError("UPDATE ...", {}, Deadlock("deadlock detected"))


def test_a_transient_database_error_in_a_step_retries_the_batch_not_failing_the_enrollment(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    make_customers(engine, "c1")
    segments.create_segment(engine, SegmentIn(id="vip", name="VIP", static=True))
    journey_id = make_journey(engine, [*RESTART_STEPS[:1], exit_step("hold")])
    enrollment_id = enroll(engine, journey_id, "c1")[0]
    execute, failures, pauses = update_step.execute, [deadlock(), deadlock()], []

    def unlucky(step: Any, run: Any) -> Any:
        if failures:
            raise failures.pop()
        return execute(step, run)

    monkeypatch.setattr(update_step, "execute", unlucky)
    monkeypatch.setattr("engine.db.backoff_pause", pauses.append)
    assert runner.advance(engine) == 1
    assert pauses == [0.05, 0.1]
    moved = state(engine, enrollment_id)
    assert moved["status"] == "exited"
    assert [item["outcome"] for item in moved["history"]] == ["updated", "exited"]
    assert journey_counters(engine, journey_id)["totals"].get("failed", 0) == 0


def test_deleting_a_customer_ends_their_active_enrollments(engine: Engine) -> None:
    make_customers(engine, "c1", "c2")
    journey_id = make_journey(engine, [wait("w", 1, "days", "bye"), exit_step("bye")])
    gone, stays = enroll(engine, journey_id, "c1", "c2")
    customers.delete_customer(engine, "c1")
    ended = state(engine, gone)
    assert (ended["status"], ended["exitReason"]) == ("exited", "customer_deleted")
    assert state(engine, stays)["status"] == "active"
    assert journey_counters(engine, journey_id)["steps"]["w"] == (1, 0)


def test_the_scheduler_waits_for_a_leased_row_until_its_lease_runs_out(
        engine: Engine, clock: VirtualClock) -> None:
    make_customers(engine, "c1")
    journey_id = make_journey(engine, [wait("w", 1, "days", "bye"), exit_step("bye")])
    enroll(engine, journey_id, "c1")
    due = runner.next_due_at(engine)
    assert due == clock.now()
    runner._claim(engine, 10, clock.now())  # another worker holds it now
    assert runner.next_due_at(engine) == clock.now() + runner.LEASE


def test_two_backfills_of_one_journey_never_enroll_a_member_twice(engine: Engine) -> None:
    make_customers(engine, "a1", "a2", "a3", vip=True)
    segments.create_segment(engine, SegmentIn(id="vips", name="VIPs", rule="customer.vip == true"))
    journey_id = make_journey(engine, [wait("w", 1, "days")], entryConditions={"segmentId": "vips"})
    inner: list[int] = []

    def second_worker(**_: Any) -> None:  # another process's backfill, while this one holds the claim
        inner.append(entry.backfill(engine, limit=2))

    signals.segment_membership_changed.connect(second_worker)
    try:
        first = entry.backfill(engine, limit=2)
    finally:
        signals.segment_membership_changed.disconnect(second_worker)
    while entry.backfill(engine, limit=2):
        pass
    assert first == 2
    assert journey_counters(engine, journey_id)["steps"]["w"] == (3, 0)


def test_events_for_many_customers_enroll_in_one_entry(engine: Engine) -> None:
    from engine.audience import events
    from models.audience import EventIn

    make_customers(engine, "c1", "c2")
    journey_id = make_journey(engine, [wait("w", 1, "days")], entryConditions={"eventType": "signup"})
    events.accept(engine, [EventIn(customerId=c, type="signup") for c in ("c1", "c2", "c1")])
    enrolled = [row["customerId"] for row in enrollments_of(engine, journey_id)]
    assert sorted(enrolled) == ["c1", "c2"]


def enrollments_of(engine: Engine, journey_id: str) -> list[dict[str, Any]]:
    from engine.runtime import enrollments

    return enrollments.list_enrollments(engine, journey_id=journey_id)["data"]


def test_a_crashed_batch_comes_back_after_its_lease(engine: Engine, clock: VirtualClock) -> None:
    make_customers(engine, "c1")
    journey_id = make_journey(engine, [wait("w", 1, "days", "bye"), exit_step("bye")])
    enrollment_id = enroll(engine, journey_id, "c1")[0]
    runner._claim(engine, 10, clock.now())  # claimed, then the worker died before its batch
    assert runner.advance(engine) == 0
    clock.advance(runner.LEASE + timedelta(seconds=1))
    assert runner.advance(engine) == 1
    assert state(engine, enrollment_id)["history"][0]["stepId"] == "w"
