"""The transactional outbox: a send step queues a delivery row in its own transaction; the dispatcher
delivers it later. Nothing here commits, so the row lands (or not) with the caller's other writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.dml import Insert
from sqlmodel import Session

from engine import delivery_counts
from engine.core import core
from engine.ids import new_id
from models.channels import Delivery

# Deliveries that count against a contact policy: on their way or delivered (not failed or suppressed).
COUNTED_STATUSES = ("queued", "sent")


@dataclass(frozen=True)
class QueuedDelivery:
    id: str
    status: str  # "queued" or "suppressed" (or whatever an earlier row with the same key has by now)
    reason: str | None


_deliveries = Delivery.__table__
# Built once: queueing runs inside every runner batch, and building statements costs more than running them.
_BY_KEY = select(_deliveries.c.id, _deliveries.c.status, _deliveries.c.last_error).where(
    _deliveries.c.idempotency_key == bindparam("key"))
_SENT_TO_CUSTOMER = select(func.count()).select_from(_deliveries).where(
    _deliveries.c.customer_id == bindparam("customer"), _deliveries.c.status.in_(COUNTED_STATUSES),
    _deliveries.c.created_at > bindparam("since"))
_SENT_OF_OFFER = _SENT_TO_CUSTOMER.where(_deliveries.c.offer_id == bindparam("offer"))
# "All time" for a window without windowDays.
_EPOCH = datetime(1970, 1, 1)


@cache
def _insert(is_sqlite: bool) -> Insert:
    # ON CONFLICT DO NOTHING: a concurrent insert of the same key must not abort the caller's whole batch.
    dialect = sqlite if is_sqlite else postgresql
    return dialect.insert(_deliveries).on_conflict_do_nothing(index_elements=["idempotency_key"])


def queue_delivery(session: Session, *, customer_id: str, channel_id: str, offer_id: str | None,
                   journey_id: str | None, enrollment_id: str | None, step_id: str | None,
                   idempotency_key: str, template: dict[str, Any] | None, context: dict[str, Any],
                   contact_policy: dict[str, Any] | None, now: datetime) -> QueuedDelivery:
    """Queue one delivery, or answer the row already queued under `idempotency_key` (never a duplicate).

    A contact policy that is already used up stores the row as "suppressed" with the reason.
    """
    connection = session.connection()
    existing = _by_key(connection, idempotency_key)
    if existing is not None:
        return existing
    reason = policy_violation(session, customer_id, offer_id, contact_policy, now) if contact_policy else None
    status = "suppressed" if reason else "queued"
    delivery_id = new_id("dlv")
    row = {"id": delivery_id, "idempotency_key": idempotency_key, "customer_id": customer_id,
           "channel_id": channel_id, "offer_id": offer_id, "journey_id": journey_id,
           "enrollment_id": enrollment_id, "step_id": step_id, "status": status, "attempts": 0,
           "last_error": reason, "next_attempt_at": now, "created_at": now,
           "payload": {"template": template, "context": context}}
    if connection.execute(_insert(core().db.is_sqlite), row).rowcount == 0:
        raced = _by_key(connection, idempotency_key)
        assert raced is not None  # the conflicting row is committed, or the insert would have gone in
        return raced
    delivery_counts.delivery_changed(connection, journey_id, step_id, channel_id, status)
    return QueuedDelivery(delivery_id, status, reason)


def policy_violation(session: Session, customer_id: str, offer_id: str | None, policy: dict[str, Any],
                     now: datetime) -> str | None:
    """Why one more delivery would break `policy` ({maxPerOffer, windowDays, maxPerDay}), or None.

    Counts queued and sent deliveries: maxPerOffer over the last windowDays days (all time without
    windowDays), maxPerDay over the last 24 hours across offers.
    """
    connection = session.connection()
    max_per_offer = policy.get("maxPerOffer")
    if max_per_offer is not None and offer_id is not None:
        window_days = policy.get("windowDays")
        since = now - timedelta(days=float(window_days)) if window_days else _EPOCH
        sent = connection.execute(_SENT_OF_OFFER, {"customer": customer_id, "offer": offer_id,
                                                   "since": since}).scalar_one()
        if sent >= int(max_per_offer):
            window = f" in {window_days} days" if window_days else ""
            return (f"contact policy: offer {offer_id} already sent {sent} times{window} "
                    f"(maxPerOffer {max_per_offer})")
    max_per_day = policy.get("maxPerDay")
    if max_per_day is not None:
        sent = connection.execute(_SENT_TO_CUSTOMER, {"customer": customer_id,
                                                      "since": now - timedelta(days=1)}).scalar_one()
        if sent >= int(max_per_day):
            return f"contact policy: {sent} deliveries in the last 24 hours (maxPerDay {max_per_day})"
    return None


def _by_key(connection: Connection, key: str) -> QueuedDelivery | None:
    row = connection.execute(_BY_KEY, {"key": key}).first()
    return QueuedDelivery(row.id, row.status, row.last_error) if row else None
