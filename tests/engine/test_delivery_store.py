"""The outbox's statements (engine.delivery.delivery_store) where the dispatcher's and the outbox's own tests
do not pin them: leases move only while they are the caller's, outcomes only while a row is queued."""

from __future__ import annotations

from datetime import timedelta

from engine.clock import VirtualClock
from engine.delivery import delivery_store as store
from engine.engine import Engine
from models.channels import Delivery
from tests.delivery_kit import attempts, delivery, queue


def _claim(engine: Engine, limit: int = 10) -> list[str]:
    moment = engine.now()
    with engine.session() as s:
        return [row.id for row in store.claim_due(engine, s, moment, moment + timedelta(seconds=30), limit)]


def test_a_claim_leases_due_rows_earliest_first_and_skips_leased_and_not_due_ones(
        engine: Engine, clock: VirtualClock) -> None:
    first = queue(engine, "a")
    clock.advance(seconds=1)
    second = queue(engine, "b")
    later = queue(engine, "c")
    with engine.session() as s:
        delivery_row = s.get_one(Delivery, later.id)
        delivery_row.next_attempt_at = engine.now() + timedelta(minutes=1)
    assert _claim(engine, limit=1) == [first.id]
    assert _claim(engine) == [second.id]  # the first is leased, the third not due
    assert delivery(engine, second.id).lease_until == engine.now() + timedelta(seconds=30)
    assert _claim(engine) == []


def test_a_lease_is_renewed_and_put_back_only_while_it_is_the_one_given(engine: Engine) -> None:
    queued = queue(engine)
    _claim(engine)
    lease = delivery(engine, queued.id).lease_until
    assert lease is not None
    later = lease + timedelta(seconds=10)
    with engine.session() as s:
        assert not store.renew_lease(s, queued.id, lease - timedelta(seconds=1), later)
        assert store.renew_lease(s, queued.id, lease, later)
        store.put_back(s, [store.PutBack(queued.id, lease, lease)])  # no longer this lease: left alone
    assert delivery(engine, queued.id).lease_until == later
    with engine.session() as s:
        store.put_back(s, [store.PutBack(queued.id, later, later)])
    row = delivery(engine, queued.id)
    assert (row.lease_until, row.next_attempt_at, row.status) == (None, later, "queued")


def test_an_outcome_moves_only_a_queued_row_and_keeps_the_stored_message_when_none_is_given(
        engine: Engine) -> None:
    moved, suppressed = queue(engine, "a"), queue(engine, "b")
    now, retry_at = engine.now(), engine.now() + timedelta(seconds=1)
    with engine.session() as s:
        s.get_one(Delivery, suppressed.id).status = "suppressed"
    with engine.session() as s:
        assert store.lock_still_queued(engine, s, [moved.id, suppressed.id]) == {moved.id}
        store.record(s, [store.Attempt(moved.id, now, False, "busy"),
                         store.Attempt(suppressed.id, now, True, None)],
                     [store.Outcome(moved.id, "queued", 1, "busy", retry_at, None, "Hi", "Tea"),
                      store.Outcome(suppressed.id, "sent", 1, None, None, now, "Hi", "Tea")])
    with engine.session() as s:  # an attempt that rendered nothing keeps the stored subject and body
        store.record(s, [store.Attempt(moved.id, retry_at, False, "no template")],
                     [store.Outcome(moved.id, "failed", 2, "no template", None, None, None, None)])
    row = delivery(engine, moved.id)
    assert (row.status, row.attempts, row.last_error, row.subject, row.body) == (
        "failed", 2, "no template", "Hi", "Tea")
    untouched = delivery(engine, suppressed.id)
    assert (untouched.status, untouched.subject, untouched.sent_at) == ("suppressed", None, None)
    assert [(a.ok, a.error) for a in attempts(engine, suppressed.id)] == [(True, None)]
    assert len(attempts(engine, moved.id)) == 2


def test_a_key_already_queued_is_not_inserted_again_and_is_found_by_key(engine: Engine) -> None:
    queued = queue(engine, "k1")
    now = engine.now()
    row = store.NewDelivery(id="dlv_other", idempotency_key="k1", customer_id="cus_ann", channel_id="ch_hook",
                            offer_id=None, journey_id=None, enrollment_id=None, step_id=None, status="queued",
                            attempts=0, last_error=None, next_attempt_at=now, created_at=now, payload={})
    with engine.session() as s:
        assert not store.insert_new(engine, s, row)
        assert store.by_key(s, "k1") == queued
        assert store.by_key(s, "k2") is None


def test_responses_lock_the_latest_sent_delivery_first(engine: Engine, clock: VirtualClock) -> None:
    sent = queue(engine, "a")
    clock.advance(seconds=1)
    newer = queue(engine, "b")
    with engine.session() as s:
        assert store.lock_latest(s, "cus_ann", "off_tea").id == newer.id
        s.get_one(Delivery, sent.id).status = "sent"
    with engine.session() as s:
        assert store.lock_latest(s, "cus_ann", "off_tea").id == sent.id
        assert store.lock_latest(s, "cus_ann", "off_other") is None
        assert [row.id for row in store.lock_many(s, {newer.id, sent.id, "dlv_missing"})] == sorted(
            [newer.id, sent.id])
        assert store.lock(s, "dlv_missing") is None
