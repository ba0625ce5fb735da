"""The dispatcher: claims due deliveries, retries with backoff on the virtual clock, fails for good,
keeps one broken delivery from hurting the others, and respects rate limits."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import update

from engine.clock import VirtualClock
from engine.delivery import dispatcher
from engine.delivery.channels import SENDERS, OutgoingMessage, Sending
from engine.delivery.dispatcher import MAX_ATTEMPTS, backoff, dispatch_due
from engine.engine import Engine
from models.channels import Delivery
from tests.delivery_kit import (
    attempts,
    delivery,
    http_config,
    http_receiver,
    queue,
    seed_channel,
    seed_customer,
    seed_offer,
)


@pytest.fixture(autouse=True)
def _audience(engine: Engine) -> None:
    seed_customer(engine, "cus_ann")
    creative = {"subject": "Hi {{ customer.name }}", "body": "{{ offer.name }}"}
    seed_offer(engine, "off_tea", creatives={"webhook": creative})


def test_backoff_doubles_from_one_second_and_is_capped() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert backoff(40).total_seconds() == 300


def test_provider_failing_twice_is_retried_and_delivers_once(engine: Engine, clock: VirtualClock) -> None:
    with http_receiver(engine, statuses=[503, 503]) as receiver:
        seed_channel(engine, "ch_hook", "webhook", http_config(receiver.url))
        queued = queue(engine, "enr_1:send1:1")
        assert dispatch_due(engine) == 1
        assert dispatch_due(engine) == 0  # not due before the backoff has passed
        clock.advance(seconds=1)
        assert dispatch_due(engine) == 1
        clock.advance(seconds=1)
        assert dispatch_due(engine) == 0  # the second backoff is 2 s
        clock.advance(seconds=1)
        assert dispatch_due(engine) == 1
        sent_at = clock.now()
        clock.advance(minutes=10)
        assert dispatch_due(engine) == 0
    row = delivery(engine, queued.id)
    assert (row.status, row.attempts, row.last_error, row.sent_at) == ("sent", 3, None, sent_at)
    assert [(a.ok, a.error) for a in attempts(engine, queued.id)] == [
        (False, "HTTP 503 Service Unavailable"), (False, "HTTP 503 Service Unavailable"), (True, None)]
    assert [r["headers"]["Idempotency-Key"] for r in receiver.requests] == ["enr_1:send1:1"] * 3
    assert [r["json"]["subject"] for r in receiver.requests] == ["Hi Ann"] * 3


def test_provider_that_always_fails_ends_failed_with_the_error(engine: Engine, clock: VirtualClock) -> None:
    with http_receiver(engine, statuses=[500] * 20) as receiver:
        seed_channel(engine, "ch_hook", "webhook", http_config(receiver.url))
        queued = queue(engine)
        for _ in range(MAX_ATTEMPTS + 2):
            dispatch_due(engine)
            clock.advance(minutes=10)
    row = delivery(engine, queued.id)
    assert (row.status, row.attempts, row.last_error, row.next_attempt_at) == (
        "failed", MAX_ATTEMPTS, "HTTP 500 Internal Server Error", None)
    assert len(receiver.requests) == MAX_ATTEMPTS
    assert len(attempts(engine, queued.id)) == MAX_ATTEMPTS


def test_client_error_is_not_retried(engine: Engine) -> None:
    with http_receiver(engine, statuses=[400]) as receiver:
        seed_channel(engine, "ch_hook", "webhook", http_config(receiver.url))
        queued = queue(engine)
        dispatch_due(engine)
    row = delivery(engine, queued.id)
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, "HTTP 400 Bad Request")


def test_template_error_fails_that_delivery_with_the_message_and_others_still_go(engine: Engine) -> None:
    with http_receiver(engine) as receiver:
        seed_channel(engine, "ch_hook", "webhook", http_config(receiver.url))
        broken = queue(engine, "a", template={"body": "{{ customer.name "})
        unsafe = queue(engine, "b", template={"subject": "{{ ''.__class__.__mro__ }}"})
        fine = queue(engine, "c")
        assert dispatch_due(engine) == 3
    assert [r["json"]["deliveryId"] for r in receiver.requests] == [fine.id]
    assert delivery(engine, fine.id).status == "sent"
    for queued, words in ((broken, "template error in body"), (unsafe, "unsafe")):
        row = delivery(engine, queued.id)
        assert (row.status, row.attempts) == ("failed", 1)
        assert words in row.last_error


def test_unexpected_exception_affects_only_that_delivery(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_channel(engine, "ch_boom", "webhook", http_config("http://127.0.0.1:9/never"))
    monkeypatch.setitem(SENDERS, "webhook", _explode)
    seed_channel(engine, "ch_inapp", "in_app", {})
    boom = queue(engine, "a", channel_id="ch_boom")
    fine = queue(engine, "b", channel_id="ch_inapp")
    assert dispatch_due(engine) == 2
    row = delivery(engine, boom.id)
    assert (row.status, row.attempts, row.last_error) == ("queued", 1, "RuntimeError: sender bug")
    assert delivery(engine, fine.id).status == "sent"


def _explode(_sending: Sending, _config: dict[str, object], _message: object) -> None:
    raise RuntimeError("sender bug")


def test_offer_without_creative_for_the_channel_sends_its_name_and_description(engine: Engine) -> None:
    seed_offer(engine, "off_plain", name="Plain {{ not rendered }}", description="Just text")
    with http_receiver(engine) as receiver:
        seed_channel(engine, "ch_hook", "webhook", http_config(receiver.url))
        queue(engine, offer_id="off_plain")
        dispatch_due(engine)
    body = receiver.requests[0]["json"]
    assert (body["subject"], body["body"]) == ("Plain {{ not rendered }}", "Just text")


def test_journey_template_overrides_the_creative_and_sees_the_context(engine: Engine) -> None:
    with http_receiver(engine) as receiver:
        seed_channel(engine, "ch_hook", "webhook", http_config(receiver.url))
        queued = queue(engine, template={"body": "{{ best[0].name }} for {{ customer.name }}"},
                       context={"context": {"best": [{"offerId": "off_tea", "name": "Tea deal"}]}})
        dispatch_due(engine)
    body = receiver.requests[0]["json"]
    assert (body["subject"], body["body"]) == ("Hi Ann", "Tea deal for Ann")
    row = delivery(engine, queued.id)
    assert (row.subject, row.body) == ("Hi Ann", "Tea deal for Ann")


def test_missing_channel_customer_or_offer_fails_without_retry(engine: Engine) -> None:
    seed_channel(engine, "ch_inapp", "in_app", {})
    gone = {
        "channel ch_gone not found": queue(engine, "a", channel_id="ch_gone"),
        "customer cus_gone not found": queue(engine, "b", channel_id="ch_inapp", customer_id="cus_gone"),
        "offer off_gone not found": queue(engine, "c", channel_id="ch_inapp", offer_id="off_gone"),
    }
    assert dispatch_due(engine) == 3
    for error, queued in gone.items():
        row = delivery(engine, queued.id)
        assert (row.status, row.attempts, row.last_error) == ("failed", 1, error)


def test_suppressed_deliveries_are_never_sent(engine: Engine) -> None:
    seed_channel(engine, "ch_inapp", "in_app", {})
    queue(engine, "a", channel_id="ch_inapp", policy={"maxPerOffer": 1})
    suppressed = queue(engine, "b", channel_id="ch_inapp", policy={"maxPerOffer": 1})
    assert dispatch_due(engine) == 1
    assert delivery(engine, suppressed.id).status == "suppressed"


def test_leased_delivery_is_left_alone_until_the_lease_runs_out(engine: Engine, clock: VirtualClock) -> None:
    seed_channel(engine, "ch_inapp", "in_app", {})
    queued = queue(engine, channel_id="ch_inapp")
    with engine.session() as s:  # as if another dispatcher had claimed it and then died
        s.execute(update(Delivery).values(lease_until=clock.now().replace(minute=5)))
    assert dispatch_due(engine) == 0
    clock.advance(minutes=5)
    assert dispatch_due(engine) == 1
    assert delivery(engine, queued.id).status == "sent"


def test_rate_limit_spreads_deliveries_over_time(engine: Engine, clock: VirtualClock) -> None:
    seed_channel(engine, "ch_inapp", "in_app", {}, rate_limit=2)
    queued = [queue(engine, f"k{i}", channel_id="ch_inapp") for i in range(5)]
    assert dispatch_due(engine) == 2
    assert dispatch_due(engine) == 0  # the others wait for tokens, without an attempt counted
    assert [delivery(engine, q.id).attempts for q in queued].count(0) == 3
    clock.advance(seconds=0.5)
    assert dispatch_due(engine) == 1
    clock.advance(seconds=1)
    assert dispatch_due(engine) == 2
    assert {delivery(engine, q.id).status for q in queued} == {"sent"}


def test_limit_caps_one_round(engine: Engine) -> None:
    seed_channel(engine, "ch_inapp", "in_app", {})
    for i in range(5):
        queue(engine, f"k{i}", channel_id="ch_inapp")
    assert dispatch_due(engine, limit=3) == 3
    assert dispatch_due(engine, limit=3) == 2


def test_two_dispatchers_at_once_deliver_each_message_once(engine: Engine) -> None:
    with http_receiver(engine) as receiver:
        seed_channel(engine, "ch_hook", "webhook", http_config(receiver.url))
        queued = [queue(engine, f"k{i}") for i in range(30)]
        start = threading.Barrier(2)
        handled: list[int] = []

        def run() -> None:
            start.wait()
            handled.append(dispatch_due(engine, limit=20))

        workers = [threading.Thread(target=run) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        handled.append(dispatch_due(engine))
    assert sum(handled) == 30
    keys = sorted(request["headers"]["Idempotency-Key"] for request in receiver.requests)
    assert keys == sorted(f"k{i}" for i in range(30))
    assert {(delivery(engine, q.id).status, delivery(engine, q.id).attempts) for q in queued} == {("sent", 1)}


def test_delivery_without_an_offer_renders_the_journey_template_alone(engine: Engine) -> None:
    seed_channel(engine, "ch_inapp", "in_app", {})
    queued = queue(engine, channel_id="ch_inapp", offer_id=None,
                   template={"subject": "Hi {{ customer.name }}", "body": "[{{ offer.name }}]"})
    dispatch_due(engine)
    row = delivery(engine, queued.id)
    assert (row.status, row.subject, row.body) == ("sent", "Hi Ann", "[]")


def test_a_long_round_stops_before_its_lease_ends_and_puts_the_rest_back(
        engine: Engine, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_channel(engine, "ch_inapp", "in_app", {})
    deliver = SENDERS["in_app"]

    def slow(sending: Sending, config: dict[str, object], message: OutgoingMessage) -> None:
        deliver(sending, config, message)
        clock.advance(seconds=10)

    monkeypatch.setitem(SENDERS, "in_app", slow)
    monkeypatch.setattr(dispatcher, "HEARTBEAT_SECONDS", 3600)  # no renewal: the round must stop by itself
    queued = [queue(engine, f"k{i}", channel_id="ch_inapp") for i in range(4)]
    assert dispatch_due(engine) == 2  # at +20 s a third send could outlast the 30-second lease
    rows = [delivery(engine, q.id) for q in queued]
    assert sorted((row.status, row.attempts, row.lease_until) for row in rows) == [
        ("queued", 0, None), ("queued", 0, None), ("sent", 1, None), ("sent", 1, None)]
    assert dispatch_due(engine) == 2
    assert {delivery(engine, q.id).status for q in queued} == {"sent"}


def test_a_round_that_attempted_deliveries_publishes_a_live_delta(engine: Engine) -> None:
    seed_channel(engine, "ch_inapp", "in_app", {})
    queue(engine, "a", channel_id="ch_inapp", journey_id="jrn_1")
    queue(engine, "b", channel_id="ch_inapp", journey_id=None)
    dispatch_due(engine)
    dispatch_due(engine)  # nothing due: nothing published
    assert [d for d in engine.live.recent() if d["kind"] == "deliveries"] == [
        {"kind": "deliveries", "at": "2026-01-05T09:00:00.000Z", "attempted": 2, "journeys": ["jrn_1"]}]


def test_a_crashed_dispatchers_message_is_sent_once_its_30_second_lease_runs_out(
        engine: Engine, clock: VirtualClock) -> None:
    seed_channel(engine, "ch_inapp", "in_app", {})
    queued = queue(engine, channel_id="ch_inapp")
    # Claimed, then the worker dies.
    assert [job.delivery.id for job in dispatcher._claim(engine, 10)] == [queued.id]
    clock.advance(seconds=29)
    assert dispatch_due(engine) == 0
    clock.advance(seconds=1)
    assert dispatch_due(engine) == 1
    assert delivery(engine, queued.id).status == "sent"


def test_the_heartbeat_keeps_a_long_send_leased(
        engine: Engine, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_channel(engine, "ch_inapp", "in_app", {})
    deliver = SENDERS["in_app"]
    queued = queue(engine, channel_id="ch_inapp")
    taken_over: list[int] = []
    renewed = threading.Event()
    monkeypatch.setattr(dispatcher, "HEARTBEAT_SECONDS", 0.01)

    def slow(sending: Sending, config: dict[str, object], message: OutgoingMessage) -> None:
        clock.advance(seconds=25)
        before = delivery(engine, queued.id).lease_until
        for _ in range(500):  # the heartbeat thread renews within a few of its 10 ms beats
            if delivery(engine, queued.id).lease_until != before:
                renewed.set()
                break
            threading.Event().wait(0.01)
        clock.advance(seconds=25)  # 50 s after the claim: past the first lease, inside the renewed one
        taken_over.append(dispatch_due(engine))
        deliver(sending, config, message)

    monkeypatch.setitem(SENDERS, "in_app", slow)
    assert dispatch_due(engine) == 1
    assert renewed.is_set()
    assert taken_over == [0]
    assert (delivery(engine, queued.id).status, delivery(engine, queued.id).attempts) == ("sent", 1)
