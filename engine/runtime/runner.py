"""The runner: claims due enrollments of active journeys in batches and moves each one through its
instantaneous steps until a wait or the end, writing every batch in one transaction with bulk statements.

A claim is a lease (owner + expiry) committed on its own, so a worker that dies mid-batch loses nothing:
its batch transaction rolls back and the rows are claimed again once the lease expires.

A batch locks in the one order used everywhere (its journeys, shared, then its enrollments), re-checks
that each journey is still active, and checks that its write-back matched every row it moved: a lost race
(or a PostgreSQL deadlock or serialization failure) rolls the whole batch back and runs it again.

A writing step that fails must take only its own writes back. A batch first runs without savepoints
(a savepoint per writing step is a large part of a send's cost); when a writing step fails there, the
whole batch rolls back and runs again with each writing step in a savepoint, which then fails only that
enrollment. Failures are rare, so the usual batch pays for no savepoints, and the outcome is the same.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from engine import counters
from engine.audience import segments
from engine.counters import Tally
from engine.db import is_transient, retrying
from engine.delivery import responses
from engine.engine import Engine
from engine.journeys.plan import Plan, plan_of
from engine.journeys.steps import KINDS
from engine.journeys.steps.base import Failed, Run, StepResult
from engine.runtime import enrollment_store
from engine.runtime.enrollment_store import (
    HistoryRow,
    State,
    history_row,
    insert_history,
    state_of,
    write_back,
)
from engine.runtime.enrollments import exit_where
from engine.runtime.entry import event_view
from engine.unit_of_work import Origin, UnitOfWork
from models.audience import Customer, Event
from models.common import iso
from models.journey import Journey, StepBase

J = Journey.__table__  # type: ignore[attr-defined]
C = Customer.__table__  # type: ignore[attr-defined]

# Long enough for any batch; a crashed worker's claims come back after this.
LEASE = timedelta(seconds=60)
# More executions than this in one go means a loop without a wait (validation forbids it; this is a guard).
MAX_STEPS_PER_RUN = 1000
WORKER = f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

@dataclass
class Executed:
    step_id: str
    type: str
    result: StepResult
    at: datetime


class IsolateSteps(Exception):
    """A writing step failed in a batch run without savepoints: run the batch again with them."""


@contextmanager
def _unguarded() -> Iterator[None]:
    """The guard of a batch's first run: a writing step's failure aborts the run (its writes may stand
    partly, and on PostgreSQL the transaction is unusable after a failed statement)."""
    try:
        yield
    except Exception as error:
        if is_transient(error):
            raise
        raise IsolateSteps(_describe(error)) from error


class StepFailed(Exception):
    """A step raised: the enrollment fails at `step_id`; the steps before it in this run stand."""

    def __init__(
        self, step: StepBase | None, step_id: str | None, message: str, executed: list[Executed], at: datetime
    ) -> None:
        super().__init__(message)
        self.step_id = step_id
        self.message = message
        failed = Executed(
            step_id or "",
            step.type if step else "unknown",
            StepResult("failed", None, Failed(message)),
            at,
        )
        self.executed = [*executed, failed]


def walk(
    state: State,
    plan: Plan,
    run: Run,
    tally: Tally,
    guard: Callable[[], AbstractContextManager[Any]] = nullcontext,
) -> list[Executed]:
    """Move one enrollment from its current step until it waits or ends; `guard` wraps steps that write.

    A writing step counts into `run.tally` (empty before it runs), moved into `tally` once the step succeeded.
    """
    journey_id, start = plan.journey_id, state.step_id
    executed: list[Executed] = []
    step_id = state.step_id
    state.version = plan.version
    while True:
        step = plan.steps.get(step_id or "")
        if step is None:
            raise StepFailed(
                None, step_id, f"step {step_id!r} is not in version {plan.version}", executed, run.now
            )
        waiting = state.context.get("wait")
        if waiting and waiting.get("stepId") == step_id:
            # The wait is over (deadline or event): continue after it without executing it again.
            state.context.pop("wait")
            state.wait_event = None
            target = step.next
        else:
            if len(executed) >= MAX_STEPS_PER_RUN:
                raise StepFailed(
                    step, step_id, f"more than {MAX_STEPS_PER_RUN} steps without a wait", executed, run.now
                )
            kind = KINDS[step.type]
            run.visit = state.visits
            try:
                if kind.writes_db:
                    with guard():
                        result = kind.execute(step, run)
                    tally.take(run.tally)
                else:
                    result = kind.execute(step, run)
            except Exception as error:
                run.tally.clear()  # the failed step's counts go, as its rows go with its savepoint
                if is_transient(error) or isinstance(error, IsolateSteps):
                    raise  # the database's trouble, not the step's: the batch is retried
                raise StepFailed(step, step_id, _describe(error), executed, run.now) from error
            state.visits += 1
            executed.append(Executed(step.id, step.type, result, run.now))
            tally.passed[(journey_id, step.id)] += 1
            if result.waits:
                state.step_id, state.next_run_at, state.wait_event = (
                    step.id,
                    result.wait_until,
                    result.wait_event,
                )
                state.context["wait"] = {
                    "stepId": step.id,
                    "since": iso(run.now),
                    "until": iso(result.wait_until),
                }
                break
            if result.exit_reason:
                _end(state, step.id, "exited", run.now, result.exit_reason)
                tally.edge(journey_id, step.id, "")
                break
            target = result.next_step
        tally.edge(journey_id, step.id, target)
        if not target:
            _end(state, step.id, "completed", run.now)
            break
        step_id = target
    tally.at_step(journey_id, start, -1)
    if state.status == "active":
        tally.at_step(journey_id, state.step_id, 1)
    else:
        tally.ended(journey_id, state.status, state.exit_reason, at=state.ended_at)
    return executed


def _end(state: State, step_id: str, status: str, at: datetime, reason: str | None = None) -> None:
    state.step_id, state.status, state.ended_at, state.exit_reason = step_id, status, at, reason
    state.next_run_at, state.wait_event = None, None
    state.context.pop("wait", None)


def _describe(error: Exception) -> str:
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    return f"{type(error).__name__}: {message}"[:1000]


# ---- batches ------------------------------------------------------------------------------------------


@dataclass
class BatchResult:
    enrollments: int = 0
    transitions: int = 0
    errors: int = 0
    journeys: set[str] = field(default_factory=set)


class LostRace(Exception):
    """The batch's write-back matched fewer rows than it moved: someone else changed one meanwhile."""


def _retry_batch(error: BaseException) -> bool:
    return isinstance(error, LostRace) or is_transient(error)


def advance(engine: Engine, limit: int | None = None) -> int:
    """Claim one batch of due enrollments and move them; returns how many were claimed."""
    limit = limit or engine.settings.batch_size
    moment = engine.now()
    ids = retrying(lambda: _claim(engine, limit, moment))
    if not ids:
        return 0
    result = retrying(lambda: _run_batch(engine, ids, moment), transient=_retry_batch)
    engine.live.publish(
        {
            "kind": "batch",
            "at": iso(moment),
            "transitions": result.transitions,
            "journeys": sorted(result.journeys),
            "errors": result.errors,
        }
    )
    return len(ids)


def run_due(engine: Engine, limit: int | None = None) -> int:
    """Advance batch after batch until nothing is due now; returns how many enrollments were handled."""
    total = 0
    while handled := advance(engine, limit):
        total += handled
    return total


def _claim(engine: Engine, limit: int, moment: datetime) -> list[str]:
    with engine.session() as s:
        return enrollment_store.claim(engine, s, limit, moment, WORKER, moment + LEASE)


def _run_batch(engine: Engine, ids: list[str], moment: datetime) -> BatchResult:
    """Run the batch without savepoints; again with a savepoint per writing step if one failed."""
    try:
        return _run_once(engine, ids, moment, _unguarded)
    except IsolateSteps:
        return _run_once(engine, ids, moment, None)


def _run_once(engine: Engine, ids: list[str], moment: datetime,
              guard: Callable[[], AbstractContextManager[Any]] | None) -> BatchResult:
    """One batch in one transaction; `guard` wraps each writing step (None: a savepoint each)."""
    result = BatchResult()
    tally, step_tally = Tally(), Tally()
    histories: list[HistoryRow] = []
    states: list[State] = []
    with engine.unit_of_work() as uow:
        s = uow.session
        # Lock order (as archive, entry and pause): the journeys first, shared, so a status change waits for
        # the batch or the batch sees it; a journey paused or archived since the claim does not advance.
        locked = select(J).where(J.c.id.in_(enrollment_store.journeys_of(s, ids))).order_by(J.c.id)
        if not engine.db.is_sqlite:
            locked = locked.with_for_update(read=True)
        journeys = {row.id: row for row in s.execute(locked) if row.status == "active"}
        enrollment_store.release_leases(s, ids, WORKER, keep=list(journeys))
        # Re-asserting the lease locks the rows and drops those exited or re-claimed since the claim.
        rows = enrollment_store.renew_leases(s, ids, WORKER, list(journeys), moment + LEASE)
        views = _Customers(s, [row.customer_id for row in rows])
        # The decide step and the outbox check contact policies: one query for the batch's customers.
        uow.loaded.policy_customers = frozenset(row.customer_id for row in rows)
        outcomes = _Outcomes(s, [row.id for row in rows])
        shared: dict[str, dict[str, Any]] = {}
        for row in rows:
            journey = journeys[row.journey_id]
            state = state_of(row)
            # Entry this enrollment's steps cause runs after the batch commits and knows who caused it.
            with uow.caused_by(Origin(row.journey_id, row.id, row.customer_id)):
                executed = _move(uow, state, journey, moment, views, outcomes, shared, tally, step_tally,
                                 guard or uow.savepoint)
            result.enrollments += 1
            result.transitions += len(executed) - (state.status == "failed")
            result.errors += state.status == "failed"
            result.journeys.add(journey.id)
            histories.extend(history_rows(state, executed))
            states.append(state)
        if states and (written := write_back(engine, s, states, moment, WORKER)) != len(states):
            raise LostRace(f"batch wrote {written} of {len(states)} enrollments back")
        if histories:
            insert_history(engine, s, histories)
        counters.apply(s, tally)
    return result


def _move(
    uow: UnitOfWork,
    state: State,
    journey: Any,
    moment: datetime,
    views: _Customers,
    outcomes: _Outcomes,
    shared: dict[str, dict[str, Any]],
    tally: Tally,
    step_tally: Tally,
    guard: Callable[[], AbstractContextManager[Any]],
) -> list[Executed]:
    """Walk one enrollment; a failing step marks only it failed (its earlier steps in this run stand).
    `step_tally` is the (empty) tally its writing steps count into, shared by the batch's enrollments."""
    start = state.step_id
    run = Run(
        uow=uow,
        now=moment,
        enrollment_id=state.id,
        customer_id=state.customer_id,
        journey={"id": journey.id, "name": journey.name, "version": journey.version,
                 "timezone": journey.timezone},
        context=state.context,
        load_customer=views.get,
        customers=shared,
        load_outcome=outcomes.get,
        tally=step_tally,
    )
    try:
        return walk(state, plan_of(journey), run, tally, guard)
    except StepFailed as failure:
        executed, step_id, message = failure.executed, failure.step_id, failure.message
    except Exception as error:  # the stored definition does not parse
        if is_transient(error) or isinstance(error, IsolateSteps):
            raise
        message = _describe(error)
        executed, step_id = (
            [Executed(start or "", "unknown", StepResult("failed", None, Failed(message)), moment)],
            start,
        )
    # Counters for the steps before the failure are already in the tally; now it leaves its start step.
    tally.at_step(state.journey_id, start, -1)
    tally.ended(state.journey_id, "failed")
    fail(state, step_id, message)
    return executed


def fail(state: State, step_id: str | None, message: str) -> None:
    state.status, state.step_id, state.error = "failed", step_id, message
    state.next_run_at, state.wait_event = None, None


def history_rows(state: State, executed: Iterable[Executed]) -> list[HistoryRow]:
    """One history row per step execution (a failure is recorded as the step's `failed` execution)."""
    return [history_row(state, item.step_id, item.type, item.result, item.at) for item in executed]


class _Customers:
    """The batch's customer views, loaded with two queries the first time any step needs one."""

    def __init__(self, s: Session, customer_ids: list[str]) -> None:
        self.session, self.ids = s, customer_ids
        self.views: dict[str, dict[str, Any]] | None = None

    def get(self, customer_id: str) -> dict[str, Any] | None:
        if self.views is None:
            # Plain rows, not ORM objects: this runs for every batch that looks at customers.
            rows = self.session.execute(
                select(C.c.id, C.c.attributes, C.c.flags).where(C.c.id.in_(self.ids))
            ).all()
            member_of = segments.memberships(self.session, self.ids)
            self.views = {row.id: segments.view_of(row, member_of.get(row.id, ())) for row in rows}
        return self.views.get(customer_id)


class _Outcomes:
    """The latest response outcome of each enrollment in the batch: one query, the first time a step asks."""

    def __init__(self, s: Session, enrollment_ids: list[str]) -> None:
        self.session, self.ids = s, enrollment_ids
        self.latest: dict[str, str] | None = None

    def get(self, enrollment_id: str) -> str | None:
        if self.latest is None:
            self.latest = responses.latest_outcomes(self.session, self.ids)
        return self.latest.get(enrollment_id)


# ---- sweeps and signal receivers ----------------------------------------------------------------------


def sweep(engine: Engine) -> int:
    """Exit enrollments older than their journey's maxDuration and release stale leases; returns exits."""
    moment = engine.now()
    exited = 0
    with engine.session() as s:
        for journey_id, max_duration in s.execute(
            select(J.c.id, J.c.max_duration).where(J.c.status == "active")
        ):
            exited += exit_where(
                s, journey_id, "max_duration", moment, entered_before=moment - timedelta(days=max_duration)
            )
        enrollment_store.release_expired_leases(s, moment)
    if exited:
        engine.live.publish(
            {
                "kind": "batch",
                "at": iso(moment),
                "transitions": 0,
                "journeys": [],
                "errors": 0,
                "exited": exited,
            }
        )
    return exited


def next_due_at(engine: Engine) -> datetime | None:
    """When the earliest active enrollment of an active journey can next be claimed (the scheduler wakes
    then): its due time, or its lease's expiry when another worker holds it past that."""
    with engine.db.reader() as s:
        return enrollment_store.next_claimable_at(s)


def resume_waits(session: Session, events: list[Event], now: datetime, **_: Any) -> None:
    """An `untilEvent` wait ends early when its event arrives; the event is visible to later steps."""
    wanted = {(event.customer_id, event.type): event for event in events}
    rows = enrollment_store.waiting_for(
        session, {customer for customer, _ in wanted}, {kind for _, kind in wanted}
    )
    changes = []
    for row in rows:
        event = wanted.get((row.customer_id, row.wait_event))
        if event is None:
            continue
        context = dict(row.context or {})
        context["event"] = event_view(event)
        context["wait"] = {**context.get("wait", {}), "resumedBy": event.id}
        changes.append((row.id, row.wait_event, context, now))
    if changes:
        # Only where still waiting for that event: a runner batch may have moved one since it was read.
        enrollment_store.resume_waits(session, changes)


def extend_waits(
    session: Session, journey: Journey, old: str, new: str, now: datetime, options: dict[str, Any], **_: Any
) -> None:
    """Resume with extendWaits: pending wait deadlines move back by the time the journey spent paused."""
    if not (old == "paused" and new == "active" and options.get("extend_waits") and journey.paused_at):
        return
    paused_at, shift = journey.paused_at, now - journey.paused_at
    rows = enrollment_store.waits_due_after(session, journey.id, paused_at)
    changes = []
    for row in rows:
        wait = (row.context or {}).get("wait")
        if not wait or wait.get("resumedBy"):
            continue
        context = {**row.context, "wait": {**wait, "until": iso(row.next_run_at + shift)}}
        changes.append((row.id, context, row.next_run_at + shift))
    if changes:
        enrollment_store.move_waits(session, changes)

