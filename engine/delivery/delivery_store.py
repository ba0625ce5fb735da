"""Every statement the write side runs on the outbox's tables (delivery, delivery_attempt): queueing, claiming
with a lease, renewing and releasing leases, recording attempts, and locking deliveries to respond to. Each
column is named once, here; the row types' field names are the column names."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import Text, bindparam, case, func, insert, or_, select, update
from sqlmodel import Session

from engine import raw_sql
from engine.engine import Engine
from models.channels import Delivery, DeliveryAttempt

D = Delivery.__table__  # type: ignore[attr-defined]
A = DeliveryAttempt.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class QueuedDelivery:
    id: str
    status: str  # "queued" or "suppressed" (or whatever an earlier row with the same key has by now)
    reason: str | None


class NewDelivery(NamedTuple):
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


class PutBack(NamedTuple):
    """A claimed delivery released unsent: its lease as claimed, and when it is due again."""

    id: str
    lease_until: datetime
    next_attempt_at: datetime


class Attempt(NamedTuple):
    """One attempt as delivery_attempt stores it (the field names are the column names)."""

    delivery_id: str
    at: datetime
    ok: bool
    error: str | None


class Outcome(NamedTuple):
    """A queued delivery's state after an attempt (the field names are the column names); a subject or body
    of None keeps the stored one."""

    id: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None
    sent_at: datetime | None
    subject: str | None
    body: str | None


# Built once: these run once per delivery, and building statements costs more than running them.
_BY_KEY = select(D.c.id, D.c.status, D.c.last_error).where(D.c.idempotency_key == bindparam("key"))
_ATTEMPT = insert(A)
# Bind names cannot be column names in an UPDATE (SQLAlchemy reserves those for SET): "b_" + the column.
_LEASED = (D.c.id == bindparam("b_id"), D.c.lease_until == bindparam("b_lease_until"))
_RENEW = update(D).where(*_LEASED).values(lease_until=bindparam("b_new"))
_PUT_BACK = update(D).where(*_LEASED).values(lease_until=None, next_attempt_at=bindparam("b_next_attempt_at"))
_OUTCOME = (
    update(D)
    .where(D.c.id == bindparam("b_id"), D.c.status == "queued")
    .values(status=bindparam("b_status"), attempts=bindparam("b_attempts"), lease_until=None,
            last_error=bindparam("b_last_error"), next_attempt_at=bindparam("b_next_attempt_at"),
            sent_at=bindparam("b_sent_at"),
            subject=func.coalesce(bindparam("b_subject", type_=Text), D.c.subject),
            body=func.coalesce(bindparam("b_body", type_=Text), D.c.body))
)
_PUT_BACK_BINDS = tuple(f"b_{name}" for name in PutBack._fields)
_OUTCOME_BINDS = tuple(f"b_{name}" for name in Outcome._fields)


@cache
def _insert(sqlite: bool) -> str:
    """ON CONFLICT DO NOTHING: a concurrent insert of the
    same key must not abort the caller's whole batch; RETURNING tells a conflict apart on every driver
    (psycopg's rowcount is -1 here)."""
    return (f"{raw_sql.insert_sql(D.name, NewDelivery._fields, sqlite)} "
            "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id")


def insert_new(engine: Engine, s: Session, row: NewDelivery) -> bool:
    """Insert the row unless one with its idempotency key exists; True when it went in. Through the driver
    (engine.raw_sql): one insert per send, and SQLAlchemy's own work per row cost more than the database's."""
    sqlite = engine.db.is_sqlite
    [values] = raw_sql.writer(D, NewDelivery._fields, sqlite).rows([row])
    # The DBAPI cursor itself, in the session's transaction: SQLAlchemy's result set-up per statement was
    # most of a send's cost. Its errors come unwrapped (engine.db.is_transient reads them as well).
    cursor = s.connection().connection.cursor()
    try:
        cursor.execute(_insert(sqlite), values)
        return cursor.fetchone() is not None
    finally:
        cursor.close()


def by_key(s: Session, key: str) -> QueuedDelivery | None:
    """The delivery queued under idempotency key `key`, if any."""
    row = s.connection().execute(_BY_KEY, {"key": key}).first()
    return QueuedDelivery(row.id, row.status, row.last_error) if row else None


def claim_due(engine: Engine, s: Session, moment: datetime, lease: datetime,
              limit: int) -> Sequence[Delivery]:
    """Lease up to `limit` queued deliveries due at `moment` and not leased (until `lease`), and read them,
    earliest due first. On PostgreSQL the due rows are picked `FOR UPDATE SKIP LOCKED`: several dispatchers
    claim disjoint rows."""
    due = (
        select(Delivery.id)
        .where(Delivery.status == "queued",
               or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= moment),
               or_(Delivery.lease_until.is_(None), Delivery.lease_until <= moment))
        .order_by(Delivery.next_attempt_at)
        .limit(limit)
    )
    if not engine.db.is_sqlite:
        due = due.with_for_update(skip_locked=True)
    claimed = s.execute(
        update(Delivery).where(Delivery.id.in_(due)).values(lease_until=lease)
        .returning(Delivery.id).execution_options(synchronize_session=False)
    ).scalars().all()
    if not claimed:
        return []
    return s.execute(
        select(Delivery).where(Delivery.id.in_(claimed)).order_by(Delivery.next_attempt_at, Delivery.id)
    ).scalars().all()


def renew_lease(s: Session, delivery_id: str, lease_until: datetime, new: datetime) -> bool:
    """Move the delivery's lease to `new`, only while it is still `lease_until`; True when it moved."""
    params = {"b_id": delivery_id, "b_lease_until": lease_until, "b_new": new}
    return bool(s.connection().execute(_RENEW, params).rowcount)


def put_back(s: Session, rows: Iterable[PutBack]) -> None:
    """Release claimed deliveries unsent (one executemany), only those whose lease is still the one given."""
    s.connection().execute(_PUT_BACK, [dict(zip(_PUT_BACK_BINDS, row, strict=True)) for row in rows])


def lock_still_queued(engine: Engine, s: Session, ids: list[str]) -> set[str]:
    """Which of `ids` are still queued; on PostgreSQL locked (in id order) until the commit, so the rows a
    caller counts are the rows its `record` moves."""
    still_queued = select(D.c.id).where(D.c.id.in_(ids), D.c.status == "queued")
    if not engine.db.is_sqlite:
        still_queued = still_queued.order_by(D.c.id).with_for_update()
    return set(s.connection().execute(still_queued).scalars())


def record(s: Session, attempts: list[Attempt], outcomes: list[Outcome]) -> None:
    """Insert the attempts and move the deliveries to their outcomes (each kind in one executemany); an
    outcome moves its delivery only while it is queued."""
    connection = s.connection()
    connection.execute(_ATTEMPT, [row._asdict() for row in attempts])
    if outcomes:
        connection.execute(_OUTCOME, [dict(zip(_OUTCOME_BINDS, row, strict=True)) for row in outcomes])


def lock(s: Session, delivery_id: str) -> Delivery | None:
    """The delivery, row-locked (on PostgreSQL) until the commit."""
    return s.get(Delivery, delivery_id, with_for_update=True)


def lock_many(s: Session, ids: Iterable[str]) -> Sequence[Delivery]:
    """Those of the deliveries that exist, row-locked in id order (on PostgreSQL) until the commit."""
    return s.execute(
        select(Delivery).where(Delivery.id.in_(sorted(ids))).order_by(Delivery.id).with_for_update()
    ).scalars().all()


def lock_latest(s: Session, customer_id: str, offer_id: str) -> Delivery | None:
    """The offer's latest sent delivery to the customer (else its latest of any status, else None),
    row-locked (on PostgreSQL) until the commit."""
    sent_first = case((Delivery.status == "sent", 0), else_=1)
    return s.execute(
        select(Delivery).where(Delivery.customer_id == customer_id, Delivery.offer_id == offer_id)
        .order_by(sent_first, Delivery.created_at.desc()).limit(1).with_for_update()
    ).scalars().first()
