"""The delivery and response counters stay equal to a recount of the rows through a mixed run: queued,
suppressed, retried, failed, sent, test sends, and the same outcome recorded more than once."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from engine import counters
from engine.audience import events
from engine.clock import VirtualClock
from engine.counters import Tally
from engine.delivery import channels_admin, deliveries, outbox
from engine.delivery.dispatcher import dispatch_due
from engine.delivery.outbox import queue_delivery
from engine.delivery.responses import mark_read, record_response
from engine.engine import Engine
from engine.monitoring import metrics
from engine.runtime import runner
from engine.unit_of_work import UnitOfWork
from models import channels as wire
from models.audience import EventIn
from models.channels import Delivery, DeliveryCounter, Response, ResponseCounter
from models.journey import Journey
from tests.delivery_kit import http_config, http_receiver, queue, seed_channel, seed_customer, seed_offer
from tests.engine.test_runtime import enroll, make_journey

pytestmark = pytest.mark.usefixtures("engine")


def _counters(engine: Engine) -> tuple[Counter[tuple[str, ...]], Counter[tuple[str, ...]]]:
    with engine.session() as s:
        counted = Counter({(row.journey_id, row.step_id, row.channel_id, row.status): row.count
                           for row in s.execute(select(DeliveryCounter)).scalars()})
        responded = Counter({(row.journey_id, row.step_id, row.outcome): row.count
                             for row in s.execute(select(ResponseCounter)).scalars()})
    return +counted, +responded  # unary + drops the zero counts


def _recount(engine: Engine) -> tuple[Counter[tuple[str, ...]], Counter[tuple[str, ...]]]:
    with engine.session() as s:
        key = (Delivery.journey_id, Delivery.step_id, Delivery.channel_id, Delivery.status)
        counted = Counter({
            (journey or "", step or "", channel, status): count
            for journey, step, channel, status, count in s.execute(select(*key, func.count()).group_by(*key))
        })
        responded = Counter({
            (journey or "", step or "", outcome): count
            for journey, step, outcome, count in s.execute(
                select(Response.journey_id, Response.step_id, Response.outcome,
                       func.count(func.distinct(Response.delivery_id)))
                .where(Response.delivery_id.is_not(None))
                .group_by(Response.journey_id, Response.step_id, Response.outcome))
        })
    return +counted, +responded


def test_counters_equal_a_recount_after_a_mixed_run(engine: Engine, clock: VirtualClock) -> None:
    seed_customer(engine, "cus_ann")
    seed_customer(engine, "cus_bob")
    seed_offer(engine, "off_tea")
    seed_channel(engine, "ch_app", "in_app", {})
    policy = {"maxPerOffer": 2, "windowDays": 7}
    with http_receiver(engine, statuses=[503]) as receiver:
        seed_channel(engine, "ch_hook", "webhook", http_config(receiver.url))
        in_app = queue(engine, "a1", channel_id="ch_app", policy=policy)
        retried = queue(engine, "a2", channel_id="ch_hook", policy=policy)
        suppressed = queue(engine, "a3", channel_id="ch_app", policy=policy)
        assert queue(engine, "a1", channel_id="ch_app", policy=policy) == in_app  # same key: no second count
        failing = queue(engine, "b1", channel_id="ch_gone", customer_id="cus_bob", enrollment_id="enr_2")
        test_send = wire.TestDeliveryIn(customer_id="cus_bob", offer_id="off_tea")
        tested = channels_admin.send_test(engine, "ch_app", test_send)
        assert _counters(engine) == _recount(engine)
        # In-app sent, webhook busy (retry), missing channel failed, test sent.
        assert dispatch_due(engine) == 4
        assert _counters(engine) == _recount(engine)
        clock.advance(seconds=1)
        assert dispatch_due(engine) == 1
    sent = (in_app.id, retried.id, tested["id"])
    assert {deliveries.get_delivery(engine, d)["status"] for d in sent} == {"sent"}
    assert (deliveries.get_delivery(engine, failing.id)["status"], suppressed.status) == (
        "failed", "suppressed")

    record_response(engine, "click", delivery_id=in_app.id)
    record_response(engine, "click", delivery_id=in_app.id)  # the same message clicked twice
    record_response(engine, "conversion", customer_id="cus_ann", offer_id="off_tea")
    click = EventIn(customer_id="cus_ann", type="click", properties={"deliveryId": retried.id})
    events.accept(engine, [click])
    events.accept(engine, [click])
    message = deliveries.inbox(engine, "cus_ann")["data"][0]
    mark_read(engine, "cus_ann", message["id"])
    record_response(engine, "impression", delivery_id=in_app.id)
    record_response(engine, "dismiss", delivery_id=tested["id"])

    delivered, responded = _counters(engine)
    assert (delivered, responded) == _recount(engine)
    assert delivered[("jrn_1", "send1", "ch_app", "sent")] == 1
    assert delivered[("jrn_1", "send1", "ch_app", "suppressed")] == 1
    assert delivered[("jrn_1", "send1", "ch_gone", "failed")] == 1
    assert delivered[("", "", "ch_app", "sent")] == 1
    assert responded[("jrn_1", "send1", "click")] == 2
    assert responded[("jrn_1", "send1", "impression")] == 1


def test_journey_metrics_read_the_counters(engine: Engine, clock: VirtualClock) -> None:
    seed_customer(engine, "cus_ann")
    seed_offer(engine, "off_tea")
    seed_channel(engine, "ch_app", "in_app", {})
    with engine.session() as s:
        s.add(Journey(id="jrn_1", name="One", status="active", created_at=engine.now(),
                      updated_at=engine.now(),
                      steps=[{"id": "send1", "type": "send", "config": {"channelId": "ch_app"}}]))
    sent = queue(engine, "a1", channel_id="ch_app")
    queue(engine, "a2", channel_id="ch_app")
    dispatch_due(engine, limit=1)
    record_response(engine, "click", delivery_id=sent.id)
    record_response(engine, "click", delivery_id=sent.id)
    figures = metrics.journey_metrics(engine, "jrn_1")
    assert figures["deliveries"]["byStatus"] == {"queued": 1, "sent": 1, "failed": 0, "suppressed": 0}
    assert figures["responses"] == [{"stepId": "send1", "stepName": "send1", "sent": 1, "queued": 1,
                                     "clicks": 1, "clickRate": 1.0, "conversions": 0, "conversionRate": 0.0}]


def _queue(engine: Engine, s: Session, key: str) -> None:
    tally = Tally()
    queue_delivery(UnitOfWork(engine, s), tally, customer_id="cus_ann", channel_id="ch_app", offer_id=None,
                   journey_id="jrn_1", enrollment_id=None, step_id="send1", idempotency_key=key,
                   template=None, context={}, contact_policy=None, now=engine.now())
    counters.apply(s, tally)


def test_counts_applied_in_a_rolled_back_savepoint_or_transaction_are_dropped_with_the_rows(
        engine: Engine) -> None:
    with engine.session() as s:
        _queue(engine, s, "kept")
        with pytest.raises(RuntimeError), s.begin_nested():
            _queue(engine, s, "dropped")
            raise RuntimeError("the step failed")
        with s.begin_nested(), s.begin_nested():
            _queue(engine, s, "released")
        s.commit()
        _queue(engine, s, "rolled back")
        s.rollback()
        _queue(engine, s, "after the rollback")
    delivered, _responded = _counters(engine)
    assert (delivered, _responded) == _recount(engine)
    assert delivered == {("jrn_1", "send1", "ch_app", "queued"): 3}


def test_a_send_step_failing_after_it_queued_counts_no_delivery(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_customer(engine, "cus_ann")
    seed_customer(engine, "cus_bob")
    seed_channel(engine, "ch_app", "in_app", {})
    journey_id = make_journey(engine, [{"id": "send1", "type": "send",
                                "config": {"channelId": "ch_app", "template": {"body": "Hi"}}}])
    real_queue = outbox.queue_delivery

    def queue_then_fail(*args: Any, **kwargs: Any) -> outbox.QueuedDelivery:
        queued = real_queue(*args, **kwargs)
        if kwargs["customer_id"] == "cus_bob":
            raise RuntimeError("the step failed after queueing")
        return queued

    monkeypatch.setattr(outbox, "queue_delivery", queue_then_fail)
    enroll(engine, journey_id, "cus_ann", "cus_bob")
    runner.run_due(engine)
    delivered, _responded = _counters(engine)
    assert (delivered, _responded) == _recount(engine)
    assert delivered == {(journey_id, "send1", "ch_app", "queued"): 1}
