"""Responses to deliveries (impression, click, conversion, dismiss): stored, queryable, and read by
branches as `outcome`. They arrive through `POST /respond`, as events of an outcome type that carry
the `deliveryId` in their properties, or as the `impression` of reading an in-app message."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, select
from sqlmodel import Session

from engine import counters, signals
from engine.counters import Tally
from engine.delivery import delivery_store as store
from engine.delivery.deliveries import message_out
from engine.engine import Engine
from engine.errors import Invalid, NotFound
from engine.ids import new_id
from engine.paging import paginate
from engine.records import fetch
from models.audience import Customer, Event
from models.channels import OUTCOMES, Delivery, InboxMessage, Response
from models.common import iso
from models.offers import Offer

# Responses recorded at the same instant (a virtual clock, a batch) rank by how far the customer went.
_STRENGTH = case({"impression": 0, "dismiss": 1, "click": 2, "conversion": 3}, value=Response.outcome,
                 else_=0)


def record_response(engine: Engine, outcome: str, delivery_id: str | None = None,
                    customer_id: str | None = None, offer_id: str | None = None) -> dict[str, Any]:
    """Store a response to a delivery (by id, or the latest one of an offer to a customer) and wake the
    engine so branches waiting on the outcome move."""
    if outcome not in OUTCOMES:
        raise Invalid(f"outcome must be one of {', '.join(OUTCOMES)}", field="outcome")
    with engine.session() as s:
        if delivery_id is not None:
            delivery = store.lock(s, delivery_id)
            if delivery is None:
                raise NotFound(f"delivery {delivery_id} not found", {"field": "deliveryId"})
            customer_id, offer_id = delivery.customer_id, delivery.offer_id
        elif customer_id is not None and offer_id is not None:
            delivery = _latest_delivery(s, customer_id, offer_id)
        else:
            raise Invalid("give deliveryId, or customerId and offerId", field="deliveryId")
        tally = Tally()
        row = _store(s, tally, delivery, customer_id, offer_id, outcome, engine.now())
        counters.apply(s, tally)
    signals.work_available.send(engine=engine)
    return response_out(row)


def mark_read(engine: Engine, customer_id: str, message_id: str) -> dict[str, Any]:
    """Mark an in-app message read; the first read is an `impression` response to its delivery."""
    with engine.session() as s:
        message = s.get(InboxMessage, message_id)
        if message is None or message.customer_id != customer_id:
            raise NotFound(f"message {message_id} not found in the inbox of {customer_id}")
        first_read = message.read_at is None
        if first_read:
            message.read_at = engine.now()
            delivery = store.lock(s, message.delivery_id)
            tally = Tally()
            _store(s, tally, delivery, customer_id, message.offer_id, "impression", message.read_at)
            counters.apply(s, tally)
        answer = message_out(message)
    if first_read:
        signals.work_available.send(engine=engine)
    return answer


def record_from_events(session: Session, events: list[Event], now: datetime, **_: Any) -> None:
    """An event whose type is an outcome and whose properties name one of the customer's deliveries
    (`deliveryId`) counts as a response, in the events' own transaction. Anything else is left alone."""
    wanted = {event.properties.get("deliveryId"): event for event in events
              if event.type in OUTCOMES and isinstance(event.properties.get("deliveryId"), str)}
    if not wanted:
        return
    found = store.lock_many(session, wanted)
    tally = Tally()
    for delivery in found:
        event = wanted[delivery.id]
        if event.customer_id == delivery.customer_id:
            _store(session, tally, delivery, delivery.customer_id, delivery.offer_id, event.type, now)
    counters.apply(session, tally)


def latest_outcome(session: Session, enrollment_id: str) -> str | None:
    """The latest response to anything the enrollment sent, or None."""
    return latest_outcomes(session, [enrollment_id]).get(enrollment_id)


def latest_outcomes(session: Session, enrollment_ids: list[str]) -> dict[str, str]:
    """The latest response outcome of each of the enrollments that has one (the strongest on a tie), in
    one query."""
    latest: dict[str, str] = {}
    rows = session.execute(
        select(Response.enrollment_id, Response.outcome)
        .where(Response.enrollment_id.in_(enrollment_ids))  # type: ignore[union-attr]
        .order_by(Response.at, _STRENGTH)
    ).all()
    for enrollment_id, outcome in rows:  # ascending: the latest (strongest on a tie) wins
        latest[enrollment_id] = outcome
    return latest


def list_responses(engine: Engine, customer_id: str | None = None, delivery_id: str | None = None,
                   enrollment_id: str | None = None, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """Responses, newest first, filtered by customer, delivery or enrollment."""
    statement = select(Response).order_by(Response.at.desc(), _STRENGTH.desc(), Response.id)
    for column, value in ((Response.customer_id, customer_id), (Response.delivery_id, delivery_id),
                          (Response.enrollment_id, enrollment_id)):
        if value is not None:
            statement = statement.where(column == value)
    with engine.reader() as s:
        return paginate(s, statement, limit, offset, response_out)


def _store(s: Session, tally: Tally, delivery: Delivery | None, customer_id: str, offer_id: str | None,
           outcome: str, at: datetime) -> Response:
    """Add a response; the delivery's first of this outcome is counted in `tally` (the caller holds the
    delivery's row lock on PostgreSQL, so two responses at once cannot both be first)."""
    if delivery is not None and s.execute(
        select(Response.id).where(Response.delivery_id == delivery.id, Response.outcome == outcome).limit(1)
    ).first() is None:
        tally.first_response(delivery.journey_id, delivery.step_id, outcome)
    row = Response(
        id=new_id("rsp"), delivery_id=delivery.id if delivery else None, customer_id=customer_id,
        offer_id=offer_id, journey_id=delivery.journey_id if delivery else None,
        enrollment_id=delivery.enrollment_id if delivery else None,
        step_id=delivery.step_id if delivery else None, outcome=outcome, at=at,
    )
    s.add(row)
    return row


def response_out(row: Response) -> dict[str, Any]:
    return {"id": row.id, "deliveryId": row.delivery_id, "customerId": row.customer_id,
            "offerId": row.offer_id, "journeyId": row.journey_id, "enrollmentId": row.enrollment_id,
            "stepId": row.step_id, "outcome": row.outcome, "at": iso(row.at)}


def _latest_delivery(s: Session, customer_id: str, offer_id: str) -> Delivery | None:
    """The offer's latest sent delivery to the customer (else its latest of any status, else None)."""
    fetch(s, Customer, customer_id, "customer", "customerId")
    fetch(s, Offer, offer_id, "offer", "offerId")
    return store.lock_latest(s, customer_id, offer_id)
