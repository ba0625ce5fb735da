"""The transactional outbox: a send step queues a delivery row in its own transaction; the dispatcher
delivers it later. Nothing here commits, so the row lands (or not) with the caller's other writes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from engine import raw_sql
from engine.counters import Tally
from engine.decisioning import contact_policy as policies
from engine.ids import new_id
from engine.unit_of_work import UnitOfWork
from models.channels import Delivery


@dataclass(frozen=True)
class QueuedDelivery:
    id: str
    status: str  # "queued" or "suppressed" (or whatever an earlier row with the same key has by now)
    reason: str | None


_deliveries = Delivery.__table__
# Built once: queueing runs inside every runner batch, and building statements costs more than running them.
_BY_KEY = select(_deliveries.c.id, _deliveries.c.status, _deliveries.c.last_error).where(
    _deliveries.c.idempotency_key == bindparam("key"))


class _Queued(NamedTuple):
    """A new delivery row as queueing writes it (the field names are the column names)."""

    id: str
    idempotency_key: str
    customer_id: str
    channel_id: str
    offer_id: str | None
    journey_id: str | None
    enrollment_id: str | None
    step_id: str | None
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    created_at: datetime
    payload: dict[str, Any]


@cache
def _insert(sqlite: bool) -> tuple[str, list[Callable[[Any], Any] | None]]:
    """The statement and each column's value conversion. Through the driver (engine.raw_sql): one insert per
    send, and SQLAlchemy's own work per row cost more than the database's. ON CONFLICT DO NOTHING: a
    concurrent insert of the same key must not abort the caller's whole batch; RETURNING tells a conflict
    apart on every driver (psycopg's rowcount is -1 here)."""
    sql = (f"{raw_sql.insert_sql(_deliveries.name, _Queued._fields, sqlite)} "
           "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id")
    return sql, raw_sql.converters(_deliveries, _Queued._fields, sqlite)


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
    sql, kinds = _insert(uow.engine.db.is_sqlite)
    row = _Queued(id=delivery_id, idempotency_key=idempotency_key, customer_id=customer_id,
                  channel_id=channel_id, offer_id=offer_id, journey_id=journey_id,
                  enrollment_id=enrollment_id, step_id=step_id, status=status, attempts=0, last_error=reason,
                  next_attempt_at=now, created_at=now, payload={"template": template, "context": context})
    connection = uow.session.connection()
    # The DBAPI cursor itself, in the session's transaction: SQLAlchemy's result set-up per statement was
    # most of a send's cost. Its errors come unwrapped (engine.db.is_transient reads them as well).
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, raw_sql.stored(row, kinds))
        inserted = cursor.fetchone()
    finally:
        cursor.close()
    if inserted is None:
        existing = _by_key(connection, idempotency_key)
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


def _by_key(connection: Connection, key: str) -> QueuedDelivery | None:
    row = connection.execute(_BY_KEY, {"key": key}).first()
    return QueuedDelivery(row.id, row.status, row.last_error) if row else None
