"""Queueing deliveries: idempotency, contact policy, and the caller's transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from engine.clock import VirtualClock
from engine.counters import Tally
from engine.delivery.outbox import queue_delivery
from engine.engine import Engine
from engine.unit_of_work import UnitOfWork
from models.channels import Delivery
from tests.delivery_kit import delivery, queue

pytestmark = pytest.mark.usefixtures("engine")
POLICY = {"maxPerOffer": 2, "windowDays": 7}


def _count(engine: Engine) -> int:
    with engine.session() as s:
        return s.execute(select(func.count()).select_from(Delivery)).scalar_one()


def test_queued_delivery_keeps_template_and_context_for_rendering(
        engine: Engine, clock: VirtualClock) -> None:
    queued = queue(engine, template={"subject": "Hi {{ customer.name }}"},
                   context={"best": [{"offerId": "off_tea"}]})
    row = delivery(engine, queued.id)
    assert (queued.status, queued.reason) == ("queued", None)
    assert row.payload == {"template": {"subject": "Hi {{ customer.name }}"},
                           "context": {"best": [{"offerId": "off_tea"}]}}
    assert (row.status, row.attempts) == ("queued", 0)
    assert row.next_attempt_at == row.created_at == clock.now()


def test_same_idempotency_key_returns_the_existing_row_never_a_duplicate(engine: Engine) -> None:
    first = queue(engine, "enr_1:send1:1")
    again = queue(engine, "enr_1:send1:1", offer_id="off_other")
    assert again == first
    assert _count(engine) == 1


def test_offer_cap_suppresses_with_the_reason_and_keeps_the_row(engine: Engine) -> None:
    queue(engine, "a", policy=POLICY)
    queue(engine, "b", policy=POLICY)
    third = queue(engine, "c", policy=POLICY)
    assert third.status == "suppressed"
    assert third.reason == "contact policy maxPerOffer: 2 sends in the last 7 days (cap 2)"
    row = delivery(engine, third.id)
    assert (row.status, row.last_error) == ("suppressed", third.reason)
    assert _count(engine) == 3


def test_offer_cap_releases_after_the_window(engine: Engine, clock: VirtualClock) -> None:
    queue(engine, "a", policy=POLICY)
    queue(engine, "b", policy=POLICY)
    clock.advance(days=7, seconds=1)
    assert queue(engine, "c", policy=POLICY).status == "queued"


def test_offer_cap_counts_only_that_offer_and_ignores_suppressed_and_failed(engine: Engine) -> None:
    queue(engine, "a", policy={"maxPerOffer": 1}, offer_id="off_other")
    assert queue(engine, "b", policy={"maxPerOffer": 1}).status == "queued"
    assert queue(engine, "c", policy={"maxPerOffer": 1}).status == "suppressed"
    with engine.session() as s:
        s.get_one(Delivery, queue(engine, "b").id).status = "failed"
    assert queue(engine, "d", policy={"maxPerOffer": 1}).status == "queued"


def test_daily_cap_counts_every_offer_over_the_last_day(engine: Engine, clock: VirtualClock) -> None:
    queue(engine, "a", offer_id="off_1", policy={"maxPerDay": 2})
    queue(engine, "b", offer_id="off_2", policy={"maxPerDay": 2})
    blocked = queue(engine, "c", offer_id="off_3", policy={"maxPerDay": 2})
    assert blocked.status == "suppressed"
    assert blocked.reason == "contact policy maxPerDay: 2 sends in the last 24 hours (cap 2)"
    clock.advance(hours=24, seconds=1)
    assert queue(engine, "d", offer_id="off_3", policy={"maxPerDay": 2}).status == "queued"


def test_queue_happens_inside_the_callers_transaction(engine: Engine) -> None:
    with pytest.raises(RuntimeError), engine.unit_of_work() as uow:
        queue_delivery(uow, Tally(), customer_id="cus_ann", channel_id="ch_hook", offer_id="off_tea",
                       journey_id=None, enrollment_id=None, step_id=None, idempotency_key="rolled-back",
                       template=None, context={}, contact_policy=None, now=engine.now())
        raise RuntimeError("the step failed")
    assert _count(engine) == 0


def test_two_queues_in_one_transaction_see_each_other_for_the_policy(engine: Engine) -> None:
    with engine.unit_of_work() as uow:
        results = [
            queue_delivery(uow, Tally(), customer_id="cus_ann", channel_id="ch_hook",
                           offer_id="off_tea", journey_id=None, enrollment_id=None, step_id=None,
                           idempotency_key=key,
                           template=None, context={}, contact_policy={"maxPerOffer": 1}, now=engine.now())
            for key in ("x", "y")
        ]
    assert [r.status for r in results] == ["queued", "suppressed"]


def _queue_in(uow: UnitOfWork, key: str, customer_id: str = "cus_ann") -> str:
    return queue_delivery(uow, Tally(), customer_id=customer_id, channel_id="ch_hook",
                          offer_id="off_tea", journey_id=None, enrollment_id=None, step_id=None,
                          idempotency_key=key, template=None, context={},
                          contact_policy={"maxPerOffer": 2}, now=uow.engine.now()).status


def test_a_batch_counts_its_own_queued_rows_without_reading_again(engine: Engine) -> None:
    queue(engine, "before", policy=POLICY)
    with engine.unit_of_work() as uow:
        uow.loaded.policy_customers = frozenset({"cus_ann", "cus_bob"})
        statements: list[str] = []
        event.listen(uow.session.connection(), "before_cursor_execute",
                     lambda *args: statements.append(args[2]) if "SELECT" in args[2] else None)
        statuses = [_queue_in(uow, key) for key in ("x", "y")] + [_queue_in(uow, "z", "cus_bob")]
    assert statuses == ["queued", "suppressed", "queued"]
    assert len(statements) == 1  # the batch's deliveries, read once for both customers


def test_a_rolled_back_savepoint_takes_its_recorded_rows_with_it(engine: Engine) -> None:
    with engine.unit_of_work() as uow:
        uow.loaded.policy_customers = frozenset({"cus_ann"})
        with pytest.raises(RuntimeError), uow.savepoint():
            assert _queue_in(uow, "x") == "queued"
            assert _queue_in(uow, "y") == "queued"
            raise RuntimeError("the step failed")
        assert _queue_in(uow, "z") == "queued"
        assert _queue_in(uow, "w") == "queued"
        assert _queue_in(uow, "v") == "suppressed"
