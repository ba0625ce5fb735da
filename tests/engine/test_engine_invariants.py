"""A stateful property test of the engine's invariants: random interleavings of enroll, events, segment joins,
runner batches, clock moves, pause/resume, archive, customer deletion and crashed workers (claimed and never
run, or killed before the batch commits). After every step:

- every step, edge and journey counter equals a recount of the rows, and none is negative;
- no enrollment has history after its end;
- every delivery belongs to exactly one send execution: no (enrollment, step visit) queues two.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select
from sqlmodel import SQLModel

from engine.audience import customers, events, segments
from engine.clock import VirtualClock
from engine.engine import Engine
from engine.errors import Conflict, Invalid, NotFound
from engine.journeys import lifecycle
from engine.runtime import entry, runner
from models.audience import CustomerIn, EventIn, SegmentIn
from models.channels import Delivery
from models.enrollment import Enrollment, EnrollmentHistory, JourneyCounter, StepCounter
from models.journey import JourneyCreate
from tests.delivery_kit import seed_channel, seed_offer

START = datetime(2026, 1, 5, 9, 0, 0)
CUSTOMERS = ["c0", "c1", "c2", "c3"]


def send(step_id: str, following: str) -> dict[str, Any]:
    return {"id": step_id, "type": "send", "next": following,
            "config": {"channelId": "ch_app", "offerId": "off_tea"}}


def update(step_id: str, op: str, following: str) -> dict[str, Any]:
    return {"id": step_id, "type": "update", "next": following,
            "config": {"operations": [{"op": op, "segmentId": "vip"}]}}


def wait(step_id: str, hours: int, following: str, **config: Any) -> dict[str, Any]:
    return {"id": step_id, "type": "wait", "next": following,
            "config": {"duration": hours, "unit": "hours", **config}}


BYE = {"id": "bye", "type": "exit", "config": {"reason": "done"}}
JOURNEYS: dict[str, dict[str, Any]] = {
    # Entered by joining `vip`, restarting; its own first step joins `vip` (the scenario).
    "restart": {"entryConditions": {"segmentId": "vip", "reentry": "restart"},
                "steps": [update("tag", "addSegment", "hold"), send("hold", "w"), wait("w", 2, "bye"), BYE]},
    # Entered by a `ping` event; a `pong` ends its wait early.
    "events": {"entryConditions": {"eventType": "ping"},
               "steps": [wait("w", 1, "s", untilEvent="pong"), send("s", "bye"), BYE]},
    # Entered by hand; leaves `vip` (and so may be re-entered into `restart` by a later join).
    "manual": {"entryConditions": {"reentry": "restart"},
               "steps": [update("untag", "removeSegment", "s"), send("s", "w"), wait("w", 3, "bye"), BYE]},
}


class EngineMachine(RuleBasedStateMachine):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        super().__init__()
        clock: VirtualClock = self.engine.clock  # type: ignore[assignment]
        clock.set(START)
        self.clock = clock
        with self.engine.session() as s:
            for table in reversed(SQLModel.metadata.sorted_tables):
                s.execute(table.delete())
        for customer_id in CUSTOMERS:
            customers.create_customer(self.engine, CustomerIn(id=customer_id))
        segments.create_segment(self.engine, SegmentIn(id="vip", name="VIP", static=True))
        seed_channel(self.engine, "ch_app", "in_app", {})
        seed_offer(self.engine, "off_tea")
        self.journeys: dict[str, str] = {}
        for name, document in JOURNEYS.items():
            journey = JourneyCreate.model_validate({"name": name, **document})
            created = lifecycle.create_journey(self.engine, journey)
            lifecycle.change_status(self.engine, created.id, "active")
            self.journeys[name] = created.id

    @rule(journey=st.sampled_from(sorted(JOURNEYS)), customer=st.sampled_from(CUSTOMERS))
    def enroll(self, journey: str, customer: str) -> None:
        with contextlib.suppress(Conflict):  # paused or archived
            entry.enroll(self.engine, self.journeys[journey], [customer])

    @rule(customer=st.sampled_from(CUSTOMERS), kind=st.sampled_from(["ping", "pong"]))
    def event(self, customer: str, kind: str) -> None:
        with contextlib.suppress(Invalid):  # a deleted customer
            events.accept(self.engine, [EventIn(customerId=customer, type=kind)])

    @rule(customer=st.sampled_from(CUSTOMERS), join=st.booleans())
    def membership(self, customer: str, join: bool) -> None:
        with contextlib.suppress(Invalid, NotFound):
            joined, left = ([customer], []) if join else ([], [customer])
            segments.change_members(self.engine, "vip", joined, left)

    @rule()
    def run(self) -> None:
        runner.run_due(self.engine)

    @rule(minutes=st.sampled_from([30, 70, 200]))
    def tick(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)

    @rule(journey=st.sampled_from(sorted(JOURNEYS)), status=st.sampled_from(["paused", "active", "archived"]))
    def lifecycle_change(self, journey: str, status: str) -> None:
        with contextlib.suppress(Conflict):  # archived journeys stay archived
            lifecycle.change_status(self.engine, self.journeys[journey], status)

    @rule(customer=st.sampled_from(CUSTOMERS))
    def delete_customer(self, customer: str) -> None:
        with contextlib.suppress(NotFound):
            customers.delete_customer(self.engine, customer)

    @rule()
    def worker_dies_after_claiming(self) -> None:
        runner._claim(self.engine, 2, self.clock.now())

    @rule()
    def worker_dies_before_its_batch_commits(self) -> None:
        ids = runner._claim(self.engine, 3, self.clock.now())
        original = runner.insert_history

        def killed(*_: Any) -> None:
            raise KeyboardInterrupt("worker killed")

        runner.insert_history = killed  # type: ignore[assignment]
        try:
            if ids:
                with pytest.raises(KeyboardInterrupt):
                    runner._run_batch(self.engine, ids, self.clock.now())
        finally:
            runner.insert_history = original

    @invariant()
    def counters_equal_a_recount(self) -> None:
        with self.engine.session() as s:
            current = {(j, st_): c for j, st_, c in s.execute(
                select(StepCounter.journey_id, StepCounter.step_id, StepCounter.current))}
            passed = {(j, st_): p for j, st_, p in s.execute(
                select(StepCounter.journey_id, StepCounter.step_id, StepCounter.passed))}
            active = Counter({(j, st_): n for j, st_, n in s.execute(
                select(Enrollment.journey_id, Enrollment.step_id, func.count())
                .where(Enrollment.status == "active").group_by(Enrollment.journey_id, Enrollment.step_id))})
            executed = Counter({(j, st_): n for j, st_, n in s.execute(
                select(EnrollmentHistory.journey_id, EnrollmentHistory.step_id, func.count())
                .where(EnrollmentHistory.type != "lifecycle", EnrollmentHistory.outcome != "failed")
                .group_by(EnrollmentHistory.journey_id, EnrollmentHistory.step_id))})
            totals = {(j, name): v for j, name, v in s.execute(
                select(JourneyCounter.journey_id, JourneyCounter.name, JourneyCounter.value))}
            by_status = Counter({(j, status): n for j, status, n in s.execute(
                select(Enrollment.journey_id, Enrollment.status, func.count())
                .group_by(Enrollment.journey_id, Enrollment.status))})
            entered = Counter({j: n for j, n in s.execute(
                select(Enrollment.journey_id, func.count()).group_by(Enrollment.journey_id))})
        assert all(value >= 0 for value in [*current.values(), *passed.values(), *totals.values()])
        assert {key: value for key, value in current.items() if value} == dict(active)
        assert {key: value for key, value in passed.items() if value} == dict(executed)
        for journey_id in self.journeys.values():
            assert totals.get((journey_id, "entered"), 0) == entered[journey_id]
            for status in ("completed", "exited", "failed"):
                assert totals.get((journey_id, status), 0) == by_status[(journey_id, status)], status

    @invariant()
    def no_history_after_the_end(self) -> None:
        with self.engine.session() as s:
            late = s.execute(
                select(EnrollmentHistory.enrollment_id, EnrollmentHistory.step_id)
                .join(Enrollment, Enrollment.id == EnrollmentHistory.enrollment_id)
                .where(Enrollment.ended_at.is_not(None),  # type: ignore[union-attr]
                       EnrollmentHistory.at > Enrollment.ended_at)
            ).all()
        assert late == []

    @invariant()
    def one_delivery_per_send_execution(self) -> None:
        with self.engine.session() as s:
            sends = Counter(
                (row.enrollment_id, row.step_id) for row in s.execute(
                    select(EnrollmentHistory.enrollment_id, EnrollmentHistory.step_id)
                    .where(EnrollmentHistory.type == "send"))
            )
            deliveries = Counter(
                (row.enrollment_id, row.step_id) for row in s.execute(
                    select(Delivery.enrollment_id, Delivery.step_id))
            )
            keys = [key for (key,) in s.execute(select(Delivery.idempotency_key))]
        assert deliveries == sends
        assert len(keys) == len(set(keys))


def test_engine_invariants_hold_over_random_interleavings(engine: Engine) -> None:
    run_state_machine_as_test(lambda: EngineMachine(engine), settings=settings(
        max_examples=10, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))


