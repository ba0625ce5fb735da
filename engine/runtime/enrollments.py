"""Enrollments as people see them: list and filter, one with its history, retry a failed one, exit one, and
where a customer is; plus the bulk exit used by archive, maxDuration and `restart`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from engine import counters, signals
from engine.counters import Tally
from engine.engine import Engine
from engine.errors import Conflict, NotFound
from engine.paging import paginate
from engine.records import fetch
from engine.runtime import enrollment_store
from models.audience import Customer
from models.common import iso
from models.enrollment import Enrollment, EnrollmentHistory
from models.journey import Journey


def enrollment_out(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "journeyId": row.journey_id,
        "customerId": row.customer_id,
        "stepId": row.step_id,
        "status": row.status,
        "exitReason": row.exit_reason,
        "error": row.error,
        "version": row.version,
        "enteredAt": iso(row.entered_at),
        "nextRunAt": iso(row.next_run_at),
        "endedAt": iso(row.ended_at),
    }


def history_out(row: Any) -> dict[str, Any]:
    return {
        "stepId": row.step_id,
        "type": row.type,
        "at": iso(row.at),
        "outcome": row.outcome,
        "nextStepId": row.next_step_id,
        "detail": row.detail or {},
        "version": row.version,
    }


def list_enrollments(
    engine: Engine, journey_id: str | None = None,
    status: str | None = None,
    step_id: str | None = None,
    customer_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """The `{data, pagination}` envelope of enrollments, newest first, filtered by any of the given fields."""
    statement = select(Enrollment)
    for column, value in (
        (Enrollment.journey_id, journey_id),
        (Enrollment.status, status),
        (Enrollment.step_id, step_id),
        (Enrollment.customer_id, customer_id),
    ):
        if value is not None:
            statement = statement.where(column == value)
    statement = statement.order_by(Enrollment.entered_at.desc(), Enrollment.id)  # type: ignore[attr-defined]
    with engine.db.reader() as s:
        return paginate(s, statement, limit, offset, enrollment_out)


def get_enrollment(engine: Engine, enrollment_id: str) -> dict[str, Any]:
    """One enrollment with its history (oldest first)."""
    with engine.db.reader() as s:
        row = _row(s, enrollment_id)
        history = s.execute(
            select(EnrollmentHistory)
            .where(EnrollmentHistory.enrollment_id == enrollment_id)
            .order_by(EnrollmentHistory.at, EnrollmentHistory.id)  # type: ignore[arg-type]
        ).scalars()
        return {**enrollment_out(row), "history": [history_out(item) for item in history]}


def retry_enrollment(engine: Engine, enrollment_id: str) -> dict[str, Any]:
    """Put a failed enrollment back to active at the step that failed; it runs at the next tick."""
    with engine.session() as s:
        row = _row(s, enrollment_id)
        if row.status != "failed":
            raise Conflict(f"only a failed enrollment can be retried (this one is {row.status})")
        journey = s.get(Journey, row.journey_id)
        if journey is None or journey.status == "archived":
            raise Conflict("the journey is archived")
        moment = engine.now()
        enrollment_store.reactivate(s, enrollment_id, moment)
        enrollment_store.insert_lifecycle_history(s, [row], moment, "retried", {"error": row.error})
        tally = Tally()
        tally.journey[(row.journey_id, "failed")] -= 1
        tally.at_step(row.journey_id, row.step_id, 1)
        counters.apply(s, tally)
        s.expire(row)
        result = enrollment_out(s.get(Enrollment, enrollment_id))
    signals.work_available.send(engine=engine)
    return result


def exit_enrollment(engine: Engine, enrollment_id: str, reason: str = "manual") -> dict[str, Any]:
    """End an active enrollment by hand."""
    with engine.session() as s:
        row = _row(s, enrollment_id)
        if row.status != "active":
            raise Conflict(f"only an active enrollment can be exited (this one is {row.status})")
        exit_where(s, row.journey_id, reason, engine.now(), ids=[enrollment_id])
        s.expire(row)
        return enrollment_out(s.get(Enrollment, enrollment_id))


def customer_journeys(engine: Engine, customer_id: str) -> list[dict[str, Any]]:
    """Every enrollment of a customer (newest first) with its journey's name and status."""
    with engine.db.reader() as s:
        rows = s.execute(
            select(Enrollment, Journey.name, Journey.status)
            .join(Journey, Journey.id == Enrollment.journey_id)
            .where(Enrollment.customer_id == customer_id)
            .order_by(Enrollment.entered_at.desc())  # type: ignore[attr-defined]
        ).all()
        if not rows and s.get(Customer, customer_id) is None:
            raise NotFound(f"customer {customer_id} not found")
        return [
            {**enrollment_out(row), "journeyName": name, "journeyStatus": status}
            for row, name, status in rows
        ]


def exit_where(
    s: Session,
    journey_id: str,
    reason: str,
    moment: datetime,
    *,
    ids: list[str] | None = None,
    entered_before: datetime | None = None,
) -> int:
    """Exit the journey's active enrollments (all, the given ids, or those entered before a time) in bulk,
    with a history row each and the counters; returns how many."""
    per_step = enrollment_store.exit_active(
        s, journey_id, reason, moment, ids=ids, entered_before=entered_before
    )
    total = sum(count for _, count in per_step)
    if not total:
        return 0
    tally = Tally()
    for step_id, count in per_step:
        tally.at_step(journey_id, step_id, -count)
    tally.ended(journey_id, "exited", reason, total)
    counters.apply(s, tally)
    return total


def _row(s: Session, enrollment_id: str) -> Enrollment:
    return fetch(s, Enrollment, enrollment_id, "enrollment")


def exit_on_archive(
    session: Session, journey: Journey, old: str, new: str, now: datetime, options: dict[str, Any], **_: Any
) -> None:
    """Archive exits everyone still in the journey."""
    if new == "archived":
        exit_where(session, journey.id, "journey_archived", now)



def exit_customer(session: Session, customer_id: str, now: datetime, **_: Any) -> None:
    """A deleted customer's active enrollments exit with reason `customer_deleted`."""
    by_journey: dict[str, list[str]] = {}
    for journey_id, enrollment_id in enrollment_store.active_of_customer(session, customer_id):
        by_journey.setdefault(journey_id, []).append(enrollment_id)
    for journey_id, ids in by_journey.items():
        exit_where(session, journey_id, "customer_deleted", now, ids=ids)
