"""The unit of work: after-commit effects in order and only after a commit, the origin of the changes it
makes, and a failed step's savepoint taking what the work loaded for it along."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.audience import customers, events
from engine.engine import Engine
from engine.unit_of_work import Origin, PolicySends
from models.audience import CustomerIn, Event, EventIn
from tests.engine.test_runtime import exit_step, make_journey, wait


def test_effects_run_after_the_commit_in_the_order_they_were_added(engine: Engine) -> None:
    seen: list[tuple[str, int]] = []

    def committed_events(label: str) -> None:
        # A new session sees the committed row: the effect runs once the transaction is over.
        with engine.reader() as s:
            seen.append((label, s.execute(select(func.count()).select_from(Event)).scalar_one()))

    customers.create_customer(engine, CustomerIn(id="c1"))
    with engine.unit_of_work() as uow:
        uow.session.add(Event(id="evt_1", customer_id="c1", type="ping", properties={},
                              occurred_at=engine.now(), received_at=engine.now()))
        uow.after_commit(lambda: committed_events("first"))
        uow.after_commit(lambda: committed_events("second"))
        assert seen == []
    assert seen == [("first", 1), ("second", 1)]


def test_effects_of_a_rolled_back_unit_of_work_never_run(engine: Engine) -> None:
    seen: list[str] = []
    with pytest.raises(RuntimeError), engine.unit_of_work() as uow:
        uow.after_commit(lambda: seen.append("ran"))
        raise RuntimeError("the work failed")
    assert seen == []


def test_a_failing_effect_does_not_stop_the_ones_after_it(engine: Engine) -> None:
    seen: list[str] = []

    def fail() -> None:
        raise RuntimeError("a follow-up failed")

    with engine.unit_of_work() as uow:
        uow.after_commit(fail)
        uow.after_commit(lambda: seen.append("ran"))
    assert seen == ["ran"]


def test_caused_by_names_the_origin_for_the_block_only(engine: Engine) -> None:
    origin = Origin("jrn_1", "enr_1", "c1")
    with engine.unit_of_work() as uow:
        with uow.caused_by(origin):
            assert uow.origin == origin
        assert uow.origin is None


def test_a_rolled_back_savepoint_drops_the_policy_sends_it_may_have_added_to(engine: Engine) -> None:
    with engine.unit_of_work() as uow:
        uow.loaded.policy_sends = PolicySends(datetime(2026, 1, 1), {"c1": []})
        with uow.savepoint():
            pass
        assert uow.loaded.policy_sends is not None  # a savepoint that stood keeps them
        with pytest.raises(RuntimeError), uow.savepoint():
            raise RuntimeError("the step failed")
        assert uow.loaded.policy_sends is None


def test_event_entry_is_announced_on_the_live_bus_only_after_the_events_committed(engine: Engine) -> None:
    customers.create_customer(engine, CustomerIn(id="c1"))
    journey_id = make_journey(engine, [wait("w", 1, "days", "x"), exit_step("x")],
                              entryConditions={"eventType": "signup"})
    stored_when_published: list[int] = []
    publish = engine.live.publish

    def watching(delta: dict[str, Any]) -> None:
        if delta.get("kind") == "enrolled":
            with engine.reader() as s:
                stored_when_published.append(s.execute(select(func.count()).select_from(Event)).scalar_one())
        publish(delta)

    engine.live.publish = watching  # type: ignore[method-assign]
    events.accept(engine, [EventIn(customer_id="c1", type="signup")])
    assert stored_when_published == [1]
    assert [d for d in engine.live.recent() if d["kind"] == "enrolled"] == [
        {"kind": "enrolled", "journeyId": journey_id, "count": 1}]
