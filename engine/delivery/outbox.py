"""The transactional outbox: a send step queues a delivery row in its own transaction; the dispatcher
delivers it later. Nothing here commits, so the row lands (or not) with the caller's other writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.counters import Tally
from engine.decisioning import contact_policy as policies
from engine.delivery import delivery_store as store
from engine.delivery.delivery_store import QueuedDelivery
from engine.ids import new_id
from engine.unit_of_work import UnitOfWork


def queue_delivery(uow: UnitOfWork, tally: Tally, *, customer_id: str, channel_id: str,
                   offer_id: str | None, journey_id: str | None, enrollment_id: str | None,
                   step_id: str | None, idempotency_key: str, template: dict[str, Any] | None,
                   context: dict[str, Any], contact_policy: dict[str, Any] | None,
                   now: datetime) -> QueuedDelivery:
    """Queue one delivery, or answer the row already queued under `idempotency_key` (never a duplicate);
    a new row is counted in `tally`, which the caller applies in this transaction.

    A contact policy (engine.decisioning.contact_policy) that is already used up stores the row as
    "suppressed" with the reason.
    """
    # Insert first (a key is almost always new); the row already there is read only on a conflict.
    reason = _suppressed_because(uow, customer_id, offer_id, contact_policy, now)
    status = "suppressed" if reason else "queued"
    delivery_id = new_id("dlv")
    row = store.NewDelivery(
        id=delivery_id, idempotency_key=idempotency_key, customer_id=customer_id, channel_id=channel_id,
        offer_id=offer_id, journey_id=journey_id, enrollment_id=enrollment_id, step_id=step_id, status=status,
        attempts=0, last_error=reason, next_attempt_at=now, created_at=now,
        payload={"template": template, "context": context})
    if not store.insert_new(uow.engine, uow.session, row):
        existing = store.by_key(uow.session, idempotency_key)
        assert existing is not None  # the conflicting row is committed, or the insert would have gone in
        return existing
    tally.delivery(journey_id, step_id, channel_id, status)
    if status == "queued":
        policies.record(uow, customer_id, offer_id, now)
    return QueuedDelivery(delivery_id, status, reason)


def _suppressed_because(uow: UnitOfWork, customer_id: str, offer_id: str | None,
                        policy: dict[str, Any] | None, now: datetime) -> str | None:
    if not policy:
        return None
    breach = policies.breaches(uow, customer_id, [offer_id], policy, now).get(offer_id)
    return f"contact policy {breach.rule}: {breach.reason}" if breach else None

