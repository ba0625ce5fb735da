"""Simulate one customer through a journey in virtual time, with no side effects.

The real step executors run inside a database transaction that is always rolled back; `send` only records
what it would send. Injected events (`{"type", "at" | "afterMinutes", "properties"}`) arrive at their
virtual time: one of the type a wait's `untilEvent` listens for ends that wait early, and an event of type
`response` with `properties.outcome` sets the CEL `outcome` from then on. Any status works, drafts included.

The runner's own walk moves the customer, so the events, the results and each step's typed detail are the
live ones. The trace explains itself to a person: every item carries the step's `name`, and each step type
adds what helps (`StepKind.explain`): a branch's conditions carry their `expression` and the `values` it read
(e.g. `{"customer.age": 23}`); a decide step's detail names the `chosen` offers with their scores and how many
were `eligible`; a send's detail holds the rendered `preview`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import update
from sqlmodel import Session

from engine.audience import customers, segments
from engine.counters import Tally
from engine.engine import Engine
from engine.errors import Invalid, NotFound
from engine.ids import new_id
from engine.journeys.plan import Plan, plan_from, plan_of
from engine.journeys.steps import KINDS
from engine.journeys.steps.base import Run
from engine.records import fetch
from engine.runtime.enrollment_store import State
from engine.runtime.entry import event_view
from engine.runtime.runner import Executed, StepFailed, walk
from engine.unit_of_work import UnitOfWork
from models.audience import Customer, Event
from models.common import iso
from models.enrollment import SimulatedEvent
from models.journey import Journey

# A journey that loops through waits forever stops here and reports `waiting`.
MAX_TRACE = 500
DEFINITION_KEYS = ("maxDuration", "maxDurationDays", "entryConditions", "entryCondition", "steps")


@dataclass
class _Observed(Run):
    """A Run that keeps the variables each condition was evaluated with, so the trace can show them."""

    seen: dict[str, dict[str, Any]] = field(default_factory=dict)

    def variables(self, expression: str) -> dict[str, Any]:
        values = super().variables(expression)
        # The branch step may trim `customer` to the fields it reads in this very dict: those are shown.
        self.seen[expression] = values
        return values


def simulate(
    engine: Engine, journey_id: str | None = None,
    document: dict[str, Any] | None = None,
    customer_id: str | None = None,
    customer_attributes: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """`{"trace": [{stepId, name, type, at, outcome, detail}], "endedAs": completed|exited|waiting|failed}`,
    with `exitReason` when it exited and `error` when a step failed."""
    start = engine.now()
    injected = _events(events or [], start)
    with _throwaway(engine) as s:
        plan, journey = _plan(s, journey_id, document)
        if plan.first is None:
            raise Invalid("the journey has no steps", field="steps")
        # Rolled back with the session: its after-commit effects (entry a segment join would cause) never run.
        uow = UnitOfWork(engine, s)
        customer = _customer(uow, customer_id, customer_attributes, start)
        return _run(uow, plan, journey, customer, injected, start)


def _run(
    uow: UnitOfWork,
    plan: Plan,
    journey: dict[str, Any],
    customer_id: str,
    injected: list[dict[str, Any]],
    start: datetime,
) -> dict[str, Any]:
    state = State(new_id("sim"), plan.journey_id, customer_id, plan.first, {"results": {}}, 0, plan.version)
    entry = plan.entry.event_type and next((e for e in injected if e["type"] == plan.entry.event_type), None)
    if entry:
        state.context["event"] = _view(entry, customer_id)
        injected.remove(entry)
    deadline = start + timedelta(days=plan.max_duration)
    trace: list[dict[str, Any]] = []
    moment, ended, reason, error = start, "waiting", None, None
    # Kept across runs: a branch whose scope is cached from an earlier run (same customer, same moment) reads
    # the same values and does not ask again.
    seen: dict[str, dict[str, Any]] = {}
    while len(trace) < MAX_TRACE:
        run = _Observed(
            uow=uow,
            now=moment,
            enrollment_id=state.id,
            customer_id=customer_id,
            journey=journey,
            context=state.context,
            dry_run=True,
            load_customer=lambda cid: customers.customer_view(uow.session, cid),
            load_outcome=lambda _id, at=moment: _outcome(injected, at),
            seen=seen,
        )
        try:
            executed = walk(state, plan, run, Tally(), uow.savepoint)
        except StepFailed as failure:
            trace += [_item(item, plan, run) for item in failure.executed]
            ended, error = "failed", failure.message
            break
        trace += [_item(item, plan, run) for item in executed]
        if state.status != "active":
            ended, reason = state.status, state.exit_reason
            break
        resume = _resume(state, injected, moment)
        if resume is None:
            break  # waits on an event that never comes
        if resume > deadline:
            ended, reason = "exited", "max_duration"
            break
        moment = resume
    answer: dict[str, Any] = {"trace": trace, "endedAs": ended}
    if reason:
        answer["exitReason"] = reason
    if error:
        answer["error"] = error
    return answer


def _resume(state: State, injected: list[dict[str, Any]], moment: datetime) -> datetime | None:
    """When the wait ends: its deadline, or earlier when its `untilEvent` arrives (then seen as `event`)."""
    deadline = state.next_run_at
    event = next(
        (
            e
            for e in injected
            if state.wait_event
            and e["type"] == state.wait_event
            and e["at"] >= moment
            and (deadline is None or e["at"] < deadline)
        ),
        None,
    )
    if event is None:
        return deadline
    injected.remove(event)
    state.context["event"] = _view(event, state.customer_id)
    state.context["wait"]["resumedBy"] = event["id"]
    state.wait_event = None
    return event["at"]


def _outcome(injected: list[dict[str, Any]], moment: datetime) -> str | None:
    responses = [
        e
        for e in injected
        if e["type"] == "response" and e["at"] <= moment and e["properties"].get("outcome")
    ]
    return responses[-1]["properties"]["outcome"] if responses else None


def _item(executed: Executed, plan: Plan, run: _Observed) -> dict[str, Any]:
    result = executed.result
    step = plan.steps.get(executed.step_id)
    kind = KINDS.get(executed.type)
    detail = result.detail
    if kind and step and isinstance(detail, kind.detail):  # not a failure's
        detail = kind.explain(step, detail, run, run.seen)
    return {
        "stepId": executed.step_id,
        "name": (step.name if step else "") or executed.step_id,
        "type": executed.type,
        "at": iso(executed.at),
        "outcome": result.outcome,
        "detail": detail.to_json(),
    }


def _view(event: dict[str, Any], customer_id: str) -> dict[str, Any]:
    """The CEL `event` of an injected event: the live runner's view of the same event."""
    return event_view(Event(id=event["id"], customer_id=customer_id, type=event["type"],
                            properties=event["properties"], occurred_at=event["at"]))


def _events(items: list[dict[str, Any]], start: datetime) -> list[dict[str, Any]]:
    parsed = []
    for index, item in enumerate(items):
        try:
            event = item if isinstance(item, SimulatedEvent) else SimulatedEvent.model_validate(item)
        except ValidationError as error:
            raise Invalid(f"events.{index}: {error.errors()[0]['msg']}", field=f"events.{index}") from error
        if event.at is not None:
            at = event.at.astimezone(UTC).replace(tzinfo=None) if event.at.tzinfo else event.at
        else:
            at = start + timedelta(minutes=event.after_minutes or 0)
        parsed.append(
            {"id": f"sim_event_{index}", "type": event.type, "at": at, "properties": event.properties}
        )
    return sorted(parsed, key=lambda e: e["at"])


def _plan(s: Session, journey_id: str | None, document: dict[str, Any] | None) -> tuple[Plan, dict[str, Any]]:
    if document is not None:
        definition = {key: value for key, value in document.items() if key in DEFINITION_KEYS}
        try:
            plan = plan_from(
                document.get("id") or "simulation", int(document.get("version") or 0), definition
            )
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"])
            raise Invalid(f"{field}: {first['msg']}", field=field) from error
        return plan, {"id": plan.journey_id, "name": document.get("name", ""), "version": plan.version,
                      "timezone": document.get("timezone")}
    row = s.get(Journey, journey_id) if journey_id else None
    if row is None:
        raise NotFound(f"journey {journey_id} not found")
    return plan_of(row), {"id": row.id, "name": row.name, "version": row.version, "timezone": row.timezone}


def _customer(uow: UnitOfWork, customer_id: str | None, attributes: dict[str, Any] | None,
              moment: datetime) -> str:
    """The customer to simulate: a real one (attributes overridden for the run) or a throwaway one. Either way
    the first statement writes: that opens the real transaction the executors' savepoints nest in (SQLite)."""
    s = uow.session
    if customer_id:
        row = fetch(s, Customer, customer_id, "customer", "customerId")
        merged = {**(row.attributes or {}), **(attributes or {})}
        s.execute(update(Customer).where(Customer.id == customer_id).values(attributes=merged))
        s.expire(row)
        if attributes:
            segments.reevaluate(uow, customer_id, moment)
        return customer_id
    simulated = new_id("sim")
    s.add(
        Customer(
            id=simulated, attributes=dict(attributes or {}), flags={}, created_at=moment, updated_at=moment
        )
    )
    s.flush()
    segments.reevaluate(uow, simulated, moment)
    return simulated


@contextmanager
def _throwaway(engine: Engine) -> Iterator[Session]:
    """A session whose transaction is always rolled back."""
    with engine.db.engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield Session(bind=connection)
        finally:
            transaction.rollback()
