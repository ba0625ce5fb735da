"""Events: `accept` is THE one place an accepted event is stored and handed on to the runtime."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from engine import signals
from engine.engine import Engine
from engine.errors import Invalid
from engine.ids import new_id
from engine.paging import paginate
from models.audience import Customer, Event, EventIn
from models.common import iso


def accept(engine: Engine, items: list[EventIn], single: bool = False) -> list[str]:
    """Store events and announce them (same transaction), then wake the engine; returns their ids.

    Every event must name a known customer: otherwise nothing is stored and the answer is 422 naming the
    first such item (`events.<index>.customerId`, or `customerId` for a `single` posted object).
    """
    moment = engine.now()
    with engine.unit_of_work() as uow:
        s = uow.session
        _check_customers(s, items, single)
        rows = [Event(id=new_id("evt"), customer_id=item.customer_id, type=item.type,
                      properties=item.properties, occurred_at=_naive_utc(item.occurred_at) or moment,
                      received_at=moment) for item in items]
        s.add_all(rows)
        s.flush()
        signals.events_accepted.send(uow=uow, events=rows, now=moment, engine=engine)
    signals.work_available.send(engine=engine)
    return [row.id for row in rows]


def list_events(engine: Engine, customer_id: str | None = None, type: str | None = None, limit: int = 50,
                offset: int = 0) -> dict[str, Any]:
    """Events newest first, optionally for one customer and/or one type."""
    with engine.db.reader() as s:
        statement = select(Event).order_by(Event.occurred_at.desc(), Event.id)
        if customer_id:
            statement = statement.where(Event.customer_id == customer_id)
        if type:
            statement = statement.where(Event.type == type)
        return paginate(s, statement, limit, offset, event_out)


def event_out(row: Event) -> dict[str, Any]:
    return {"id": row.id, "customerId": row.customer_id, "type": row.type, "properties": row.properties,
            "occurredAt": iso(row.occurred_at), "receivedAt": iso(row.received_at)}


def _check_customers(session: Session, items: list[EventIn], single: bool) -> None:
    wanted = sorted({item.customer_id for item in items})
    known = set(session.execute(select(Customer.id).where(Customer.id.in_(wanted))).scalars())
    for index, item in enumerate(items):
        if item.customer_id not in known:
            field = "customerId" if single else f"events.{index}.customerId"
            raise Invalid(f"{field}: unknown customer {item.customer_id}", field=field)


def _naive_utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
