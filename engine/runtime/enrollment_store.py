"""Every statement the write side runs on enrollments and their history: entry, the runner's claim, lease and
write-back, wait resumes, exits and retries. Each column is named once, here, and used by the read, the update
and the insert alike (the driver-level statements take their value conversions from the table's column
types: engine.raw_sql.RowWriter)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any, NamedTuple

from sqlalchemy import JSON, Column, Row, and_, bindparam, case, func, literal, null, or_, select, update
from sqlmodel import Session

from engine import raw_sql
from engine.engine import Engine
from engine.ids import new_id
from engine.journeys.steps.base import StepResult
from models.enrollment import Enrollment, EnrollmentHistory
from models.journey import Journey

E = Enrollment.__table__  # type: ignore[attr-defined]
H = EnrollmentHistory.__table__  # type: ignore[attr-defined]
J = Journey.__table__  # type: ignore[attr-defined]
# History rows for changes made from outside a step (exits by archive/maxDuration/hand/restart, retries).
LIFECYCLE = "lifecycle"


@dataclass
class State:
    """The mutable part of one enrollment while it moves."""

    id: str
    journey_id: str
    customer_id: str
    step_id: str | None
    context: dict[str, Any]
    visits: int
    version: int
    status: str = "active"
    next_run_at: datetime | None = None
    wait_event: str | None = None
    ended_at: datetime | None = None
    exit_reason: str | None = None
    error: str | None = None


# What a batch reads of each enrollment it moves: the State fields of the same names.
READ = ("id", "journey_id", "customer_id", "step_id", "context", "visits", "version")
# What it writes back: the State fields stored under the columns of the same names.
WRITTEN = ("step_id", "status", "next_run_at", "context", "visits", "version", "ended_at", "exit_reason",
           "error", "wait_event")
_written = attrgetter(*WRITTEN)


def read_columns() -> list[Column[Any]]:
    """The columns of `READ`, for a statement's select list or RETURNING clause."""
    return [E.c[name] for name in READ]


def state_of(row: Any) -> State:
    """The State of a row read with `read_columns()` (READ is State's leading fields, in order)."""
    state = State(*row)
    if state.context is None:
        state.context = {}
    return state


def write_back(engine: Engine, s: Session, states: list[State], moment: datetime, worker: str) -> int:
    """Write the batch's enrollments back (raw executemany) and release their leases; returns how many rows
    matched (fewer than `states` when another writer took one, or the lease is no longer `worker`'s)."""
    sqlite = engine.db.is_sqlite
    mark = raw_sql.mark(sqlite)
    assignments = ", ".join(f"{column} = {mark}" for column in (*WRITTEN, "updated_at"))
    sql = (f"UPDATE {E.name} SET {assignments}, lease_owner = NULL, lease_until = NULL "
           f"WHERE id = {mark} AND lease_owner = {mark}")
    columns = (*WRITTEN, "updated_at", "id", "lease_owner")
    params = raw_sql.writer(E, columns, sqlite).rows((*_written(state), moment, state.id, worker)
                                                     for state in states)
    return s.connection().exec_driver_sql(sql, params).rowcount


class HistoryRow(NamedTuple):
    """One step execution as the history stores it (the field names are the column names)."""

    enrollment_id: str
    journey_id: str
    customer_id: str
    step_id: str
    type: str
    version: int
    at: datetime
    outcome: str
    next_step_id: str | None
    detail: dict[str, Any]


def history_row(state: State, step_id: str, step_type: str, result: StepResult, at: datetime) -> HistoryRow:
    return HistoryRow(enrollment_id=state.id, journey_id=state.journey_id, customer_id=state.customer_id,
                      step_id=step_id, type=step_type, version=state.version, at=at,
                      outcome=result.outcome[:64], next_step_id=result.next_step,
                      detail=result.detail.to_json())


def insert_history(engine: Engine, s: Session, rows: Iterable[HistoryRow]) -> None:
    """Raw DBAPI executemany: history is most of what a batch writes, and SQLAlchemy's per-row parameter
    processing would double its cost. Times and JSON are converted as SQLAlchemy would."""
    sqlite = engine.db.is_sqlite
    sql = raw_sql.insert_sql(H.name, HistoryRow._fields, sqlite)
    s.connection().exec_driver_sql(sql, raw_sql.writer(H, HistoryRow._fields, sqlite).rows(rows))


def insert_lifecycle_history(
    s: Session, rows: Iterable[Any], moment: datetime, outcome: str, detail: dict[str, Any]
) -> None:
    """A `lifecycle` history row for each enrollment (anything with its id, journey, customer, step and
    version): a change made from outside a step."""
    s.execute(
        H.insert(),
        [
            HistoryRow(enrollment_id=row.id, journey_id=row.journey_id, customer_id=row.customer_id,
                       step_id=row.step_id, type=LIFECYCLE, version=row.version, at=moment, outcome=outcome,
                       next_step_id=None, detail=detail)._asdict()
            for row in rows
        ],
    )


# ---- entry ------------------------------------------------------------------------------------------------


def previous_enrollments(s: Session, journey_id: str, customer_ids: list[str]) -> Sequence[Row[Any]]:
    """The journey's enrollments of these customers, in any status: (customer_id, id, status, entered_at)."""
    return s.execute(
        select(E.c.customer_id, E.c.id, E.c.status, E.c.entered_at).where(
            E.c.journey_id == journey_id, E.c.customer_id.in_(customer_ids)
        )
    ).all()


def insert_enrollments(
    s: Session,
    journey_id: str,
    version: int,
    step_id: str,
    customer_ids: list[str],
    contexts: list[dict[str, Any]],
    now: datetime,
) -> list[str]:
    """One active enrollment per customer, with its context, at `step_id` of that journey version and due
    now; returns their new ids, in the customers' order."""
    ids = [new_id("enr") for _ in customer_ids]
    s.execute(
        E.insert(),
        [
            {
                "id": enrollment_id,
                "journey_id": journey_id,
                "version": version,
                "customer_id": cid,
                "step_id": step_id,
                "status": "active",
                "next_run_at": now,
                "context": context,
                "visits": 0,
                "entered_at": now,
                "updated_at": now,
            }
            for enrollment_id, cid, context in zip(ids, customer_ids, contexts, strict=True)
        ],
    )
    return ids


# ---- the runner's claims and leases -----------------------------------------------------------------------


def _due(engine: Engine, moment: datetime, limit: int) -> Any:
    active = select(J.c.id).where(J.c.status == "active")
    due = (
        select(E.c.id)
        .where(
            E.c.status == "active",
            E.c.next_run_at <= moment,
            E.c.journey_id.in_(active),
            or_(E.c.lease_until.is_(None), E.c.lease_until < moment),
        )
        .order_by(E.c.next_run_at)
        .limit(limit)
    )
    if not engine.db.is_sqlite:
        # Several workers share the queue: each skips the rows another is claiming right now.
        due = due.with_for_update(skip_locked=True, of=E)
    return due


def claim(
    engine: Engine, s: Session, limit: int, moment: datetime, worker: str, until: datetime
) -> list[str]:
    """Lease up to `limit` enrollments of active journeys, due at `moment` and not leased, to `worker` until
    `until`, the earliest due first; returns their ids."""
    statement = (
        update(E)
        .where(E.c.id.in_(_due(engine, moment, limit)))
        .values(lease_owner=worker, lease_until=until)
        .returning(E.c.id)
    )
    return list(s.execute(statement).scalars())


def journeys_of(s: Session, ids: list[str]) -> list[str]:
    """The journeys of these enrollments, each once, sorted (the order they are locked in)."""
    return sorted(set(s.execute(select(E.c.journey_id).where(E.c.id.in_(ids))).scalars()))


def release_leases(s: Session, ids: list[str], worker: str, keep: list[str]) -> None:
    """Release `worker`'s leases on those of `ids` that are not in one of the journeys `keep`."""
    s.execute(
        update(E)
        .where(E.c.id.in_(ids), E.c.lease_owner == worker, E.c.journey_id.not_in(keep))
        .values(lease_owner=None, lease_until=None)
    )


def renew_leases(
    s: Session, ids: list[str], worker: str, journeys: list[str], until: datetime
) -> Sequence[Row[Any]]:
    """Extend `worker`'s leases on those of `ids` still active in one of `journeys` until `until`, which locks
    them; returns them as read with `read_columns()` (those exited or re-claimed since are not among them)."""
    return s.execute(
        update(E)
        .where(E.c.id.in_(ids), E.c.lease_owner == worker, E.c.status == "active",
               E.c.journey_id.in_(journeys))
        .values(lease_until=until)
        .returning(*read_columns())
    ).all()


def release_expired_leases(s: Session, moment: datetime) -> None:
    s.execute(update(E).where(E.c.lease_until < moment).values(lease_owner=None, lease_until=None))


def next_claimable_at(s: Session) -> datetime | None:
    """When the earliest active enrollment of an active journey can next be claimed: its due time, or its
    lease's expiry when a worker holds it past that."""
    claimable = case(
        (and_(E.c.lease_until.is_not(None), E.c.lease_until > E.c.next_run_at), E.c.lease_until),
        else_=E.c.next_run_at,
    )
    active = select(J.c.id).where(J.c.status == "active")
    return s.execute(
        select(func.min(claimable)).where(E.c.status == "active", E.c.journey_id.in_(active))
    ).scalar_one()


# ---- waits ----------------------------------------------------------------------------------------------


def waiting_for(s: Session, customer_ids: set[str], events: set[str]) -> Sequence[Row[Any]]:
    """Active enrollments of these customers waiting for one of these event types:
    (id, customer_id, wait_event, context)."""
    return s.execute(
        select(E.c.id, E.c.customer_id, E.c.wait_event, E.c.context).where(
            E.c.customer_id.in_(customer_ids), E.c.wait_event.in_(events), E.c.status == "active"
        )
    ).all()


def resume_waits(s: Session, changes: list[tuple[str, str, dict[str, Any], datetime]]) -> None:
    """End event waits, each (id, the event it waits for, its new context, when it runs next), in one
    executemany; one no longer waiting for that event (a runner batch moved it since) is left alone."""
    s.execute(
        update(E)
        .where(E.c.id == bindparam("b_id"), E.c.wait_event == bindparam("b_event"))
        .values(context=bindparam("b_context"), next_run_at=bindparam("b_next"), wait_event=None),
        [{"b_id": id_, "b_event": event, "b_context": context, "b_next": next_run_at}
         for id_, event, context, next_run_at in changes],
    )


def waits_due_after(s: Session, journey_id: str, moment: datetime) -> Sequence[Row[Any]]:
    """The journey's active enrollments due after `moment`: (id, next_run_at, context)."""
    return s.execute(
        select(E.c.id, E.c.next_run_at, E.c.context).where(
            E.c.journey_id == journey_id, E.c.status == "active", E.c.next_run_at > moment
        )
    ).all()


def move_waits(s: Session, changes: list[tuple[str, dict[str, Any], datetime]]) -> None:
    """Set each (id, context, next_run_at) in one executemany."""
    s.execute(
        update(E)
        .where(E.c.id == bindparam("b_id"))
        .values(context=bindparam("b_context"), next_run_at=bindparam("b_next")),
        [{"b_id": id_, "b_context": context, "b_next": next_run_at} for id_, context, next_run_at in changes],
    )


# ---- exits and retries ------------------------------------------------------------------------------------


def exit_active(
    s: Session,
    journey_id: str,
    reason: str,
    moment: datetime,
    *,
    ids: list[str] | None = None,
    entered_before: datetime | None = None,
) -> Sequence[Row[Any]]:
    """Exit the journey's active enrollments (all, the given ids, or those entered before a time) in bulk,
    with a `lifecycle` history row each; returns how many left each step: (step_id, count)."""
    conditions = [E.c.journey_id == journey_id, E.c.status == "active"]
    if ids is not None:
        conditions.append(E.c.id.in_(ids))
    if entered_before is not None:
        conditions.append(E.c.entered_at < entered_before)
    per_step = s.execute(select(E.c.step_id, func.count()).where(*conditions).group_by(E.c.step_id)).all()
    if not per_step:
        return per_step
    detail = literal({"reason": reason}, JSON)
    s.execute(
        H.insert().from_select(
            HistoryRow._fields,
            select(
                E.c.id,
                E.c.journey_id,
                E.c.customer_id,
                E.c.step_id,
                literal(LIFECYCLE),
                E.c.version,
                literal(moment),
                literal("exited"),
                null(),
                detail,
            ).where(*conditions),
        )
    )
    s.execute(
        update(E)
        .where(*conditions)
        .values(
            status="exited",
            exit_reason=reason,
            ended_at=moment,
            next_run_at=None,
            wait_event=None,
            lease_owner=None,
            lease_until=None,
            updated_at=moment,
        )
    )
    return per_step


def active_of_customer(s: Session, customer_id: str) -> Sequence[Row[Any]]:
    """The customer's active enrollments, by journey: (journey_id, id)."""
    return s.execute(
        select(E.c.journey_id, E.c.id).where(E.c.customer_id == customer_id, E.c.status == "active")
        .order_by(E.c.journey_id)
    ).all()


def reactivate(s: Session, enrollment_id: str, moment: datetime) -> None:
    """Make an enrollment active again at its step, due at `moment`, with no error, end or lease."""
    s.execute(
        update(E)
        .where(E.c.id == enrollment_id)
        .values(
            status="active",
            error=None,
            next_run_at=moment,
            ended_at=None,
            lease_owner=None,
            lease_until=None,
            updated_at=moment,
        )
    )
