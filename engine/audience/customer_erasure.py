"""Erasing a deleted customer, in the transaction of the delete.

What was addressed to the person goes: their in-app inbox. What the journeys' figures are made of stays, under
a pseudonym (one per erasure, holding a "/" so no customer can ever be created under it) and emptied of
what it said about them: enrollments (context), their step history (details), deliveries (rendered
message and template context), responses, events (properties) and segment changes. So a journey that
counted 100 entries still counts 100 and its goal results stay, the counters still equal a recount of the
rows, and a customer created later under the same id starts with nothing. A delivery still queued is
suppressed (and counted so): it is never sent.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, select, update
from sqlmodel import Session

from engine import counters
from engine.access import roles
from engine.counters import Tally
from models.access import AuditEntry
from models.audience import Event, SegmentChange
from models.channels import Delivery, InboxMessage, Response
from models.enrollment import Enrollment, EnrollmentHistory

CANCELLED = "customer deleted"
_DELIVERIES: Table = Delivery.__table__  # type: ignore[attr-defined]
_ENROLLMENTS: Table = Enrollment.__table__  # type: ignore[attr-defined]
_HISTORY: Table = EnrollmentHistory.__table__  # type: ignore[attr-defined]
# Tables kept under the pseudonym (by the name the audit entry counts them under), with the columns that
# held something about the person and what they become.
PSEUDONYMISED: dict[str, tuple[Table, dict[str, Any]]] = {
    "enrollments": (_ENROLLMENTS, {"context": {}}),
    "events": (Event.__table__, {"properties": {}}),  # type: ignore[attr-defined]
    "deliveries": (_DELIVERIES, {"payload": {}, "subject": None, "body": None}),
    "responses": (Response.__table__, {}),  # type: ignore[attr-defined]
    "segmentChanges": (SegmentChange.__table__, {}),  # type: ignore[attr-defined]
}


def erase(session: Session, customer_id: str, now: datetime, actor: roles.Actor | None) -> dict[str, int]:
    """Erase everything of `customer_id` but the customer row (the caller deletes it) and record the erasure
    in the audit log as done by `actor`; answers how many rows of each kind were erased."""
    pseudonym = f"erased/{uuid.uuid4().hex}"
    connection = session.connection()
    tally = Tally()
    erased = {
        "cancelledDeliveries": _cancel_queued(session, customer_id, tally),
        "inboxMessages": connection.execute(
            delete(InboxMessage).where(InboxMessage.customer_id == customer_id)).rowcount,
        # Found through the enrollments (history has no index on the customer), so before those change.
        "history": connection.execute(
            update(_HISTORY).where(_HISTORY.c.enrollment_id.in_(
                select(_ENROLLMENTS.c.id).where(_ENROLLMENTS.c.customer_id == customer_id)))
            .values(customer_id=pseudonym, detail={})).rowcount,
    }
    for name, (table, emptied) in PSEUDONYMISED.items():
        erased[name] = connection.execute(
            update(table).where(table.c.customer_id == customer_id).values(customer_id=pseudonym, **emptied)
        ).rowcount
    counters.apply(session, tally)
    _record(session, customer_id, erased, now, actor)
    return erased


def _cancel_queued(session: Session, customer_id: str, tally: Tally) -> int:
    """Suppress the customer's queued deliveries, so no dispatcher sends them (counted in `tally`); answers
    how many."""
    connection = session.connection()
    queued = (_DELIVERIES.c.customer_id == customer_id, _DELIVERIES.c.status == "queued")
    # Locked in id order first, the order the dispatcher locks them in to record a round, so the two cannot
    # deadlock; a row the dispatcher records meanwhile is no longer queued and is left as it recorded it.
    connection.execute(select(_DELIVERIES.c.id).where(*queued).order_by(_DELIVERIES.c.id).with_for_update())
    moved = connection.execute(
        update(_DELIVERIES).where(*queued)
        .values(status="suppressed", last_error=CANCELLED, next_attempt_at=None, lease_until=None)
        .returning(_DELIVERIES.c.journey_id, _DELIVERIES.c.step_id, _DELIVERIES.c.channel_id)
    ).all()
    for journey_id, step_id, channel_id in moved:
        tally.delivery(journey_id, step_id, channel_id, "suppressed", previous="queued")
    return len(moved)


def _record(session: Session, customer_id: str, erased: dict[str, int], now: datetime,
            actor: roles.Actor | None) -> None:
    """The audit entry of the deletion. The audit hook polices customer changes but records none (they are
    data, imported by the thousand); a deletion erases, and that is worth a record. Never the pseudonym:
    it would tie the kept rows back to the person. Like the hook, nothing is recorded without an actor."""
    if actor is None:
        return
    session.add(AuditEntry(at=now, actor=actor.label, role=actor.role, action="deleted",
                           entity_type="customer", entity_id=customer_id, entity_name=customer_id[:255],
                           details={"erased": erased}))
