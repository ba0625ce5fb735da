"""Reading the outbox: deliveries with their attempts, and the in-app inbox."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from engine.engine import Engine
from engine.errors import Invalid
from engine.paging import paginate
from engine.records import fetch
from models.audience import Customer
from models.channels import DELIVERY_STATUSES, Delivery, DeliveryAttempt, DeliveryCounter, InboxMessage
from models.common import iso


def delivery_out(row: Delivery) -> dict[str, Any]:
    return {
        "id": row.id, "customerId": row.customer_id, "channelId": row.channel_id, "offerId": row.offer_id,
        "journeyId": row.journey_id, "enrollmentId": row.enrollment_id, "stepId": row.step_id,
        "status": row.status, "attempts": row.attempts, "lastError": row.last_error,
        "createdAt": iso(row.created_at), "sentAt": iso(row.sent_at),
        "nextAttemptAt": iso(row.next_attempt_at),
    }


def list_deliveries(engine: Engine, customer_id: str | None = None, channel_id: str | None = None,
                    status: str | None = None, journey_id: str | None = None, limit: int = 50,
                    offset: int = 0) -> dict[str, Any]:
    """The outbox, newest first, filtered by any of customer, channel, status and journey."""
    if status is not None and status not in DELIVERY_STATUSES:
        raise Invalid(f"status must be one of {', '.join(DELIVERY_STATUSES)}", field="status")
    statement = select(Delivery).order_by(Delivery.created_at.desc(), Delivery.id.desc())
    for column, value in ((Delivery.customer_id, customer_id), (Delivery.channel_id, channel_id),
                          (Delivery.status, status), (Delivery.journey_id, journey_id)):
        if value is not None:
            statement = statement.where(column == value)
    with engine.reader() as s:
        return paginate(s, statement, limit, offset, delivery_out)


def status_counts(engine: Engine) -> dict[str, int]:
    """How many deliveries are in each status (every status present, 0 when none), from the counters."""
    with engine.reader() as s:
        rows = s.execute(
            select(DeliveryCounter.status, func.sum(DeliveryCounter.count)).group_by(DeliveryCounter.status)
        ).all()
    found = {status: int(count) for status, count in rows}
    return {status: found.get(status, 0) for status in DELIVERY_STATUSES}


def get_delivery(engine: Engine, delivery_id: str) -> dict[str, Any]:
    """One delivery with its rendered message and every attempt, oldest first."""
    with engine.reader() as s:
        row = fetch(s, Delivery, delivery_id, "delivery")
        attempts = s.execute(
            select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id)
            .order_by(DeliveryAttempt.at, DeliveryAttempt.id)
        ).scalars().all()
        return {
            **delivery_out(row), "idempotencyKey": row.idempotency_key,
            "subject": row.subject, "body": row.body,
            "attemptLog": [{"at": iso(a.at), "ok": a.ok, "error": a.error} for a in attempts],
        }


def inbox(engine: Engine, customer_id: str, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """A customer's in-app messages, newest first."""
    with engine.reader() as s:
        fetch(s, Customer, customer_id, "customer")
        statement = (select(InboxMessage).where(InboxMessage.customer_id == customer_id)
                     .order_by(InboxMessage.created_at.desc(), InboxMessage.id.desc()))
        return paginate(s, statement, limit, offset, message_out)


def message_out(row: InboxMessage) -> dict[str, Any]:
    return {"id": row.id, "deliveryId": row.delivery_id, "channelId": row.channel_id, "offerId": row.offer_id,
            "subject": row.subject, "body": row.body, "createdAt": iso(row.created_at),
            "readAt": iso(row.read_at)}
