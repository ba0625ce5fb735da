"""What a runner batch reads of its enrollments and writes back, with their history rows: each column named
once, here, and used by the read, the update and the insert alike (the driver-level statements take their
value conversions from the table's column types: engine.raw_sql.converters)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any, NamedTuple

from sqlalchemy import Column
from sqlmodel import Session

from engine import raw_sql
from engine.engine import Engine
from engine.journeys.steps.base import StepResult
from models.enrollment import Enrollment, EnrollmentHistory

E = Enrollment.__table__  # type: ignore[attr-defined]
H = EnrollmentHistory.__table__  # type: ignore[attr-defined]


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
    """The State of a row read with `read_columns()`."""
    values = {name: getattr(row, name) for name in READ}
    values["context"] = values["context"] or {}
    return State(**values)


def write_back(engine: Engine, s: Session, states: list[State], moment: datetime, worker: str) -> int:
    """Write the batch's enrollments back (raw executemany) and release their leases; returns how many rows
    matched (fewer than `states` when another writer took one, or the lease is no longer `worker`'s)."""
    sqlite = engine.db.is_sqlite
    mark = raw_sql.mark(sqlite)
    assignments = ", ".join(f"{column} = {mark}" for column in (*WRITTEN, "updated_at"))
    sql = (f"UPDATE {E.name} SET {assignments}, lease_owner = NULL, lease_until = NULL "
           f"WHERE id = {mark} AND lease_owner = {mark}")
    kinds = raw_sql.converters(E, (*WRITTEN, "updated_at"), sqlite)
    params = [(*raw_sql.stored((*_written(state), moment), kinds), state.id, worker) for state in states]
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
    kinds = raw_sql.converters(H, HistoryRow._fields, sqlite)
    s.connection().exec_driver_sql(sql, [raw_sql.stored(row, kinds) for row in rows])
