"""Simulate one customer through a journey in virtual time, with no side effects.

The real step executors run inside a database transaction that is always rolled back; `send` only records
what it would send. Injected events (`{"type", "at" | "afterMinutes", "properties"}`) arrive at their
virtual time: one of the type a wait's `untilEvent` listens for ends that wait early, and an event of type
`response` with `properties.outcome` sets the CEL `outcome` from then on. Any status works, drafts included.

The trace explains itself to a person: every item carries the step's `name`; a branch's conditions carry their
`expression` and the `values` it read (e.g. `{"customer.age": 23}`); a decide step's detail names the
`chosen` offers with their scores and how many were `eligible`; a send's detail holds the rendered `preview`.
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
from engine.core import core
from engine.core import now as current_time
from engine.counters import Tally
from engine.errors import Invalid, NotFound
from engine.expressions import fields, names
from engine.ids import new_id
from engine.records import fetch
from engine.runtime.runner import State, StepFailed, walk
from engine.runtime.steps.base import Plan, Run, plan_from, plan_of
from models.audience import Customer
from models.common import iso
from models.enrollment import SimulatedEvent
from models.journey import BranchStep, Journey

# A journey that loops through waits forever stops here and reports `waiting`.
MAX_TRACE = 500
DEFINITION_KEYS = ("maxDuration", "maxDurationDays", "entryConditions", "entryCondition", "steps")
# Variables a trace does not show the values of (the same for every condition of a run).
UNSHOWN_NAMES = frozenset({"now", "journey"})


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
    journey_id: str | None = None,
    document: dict[str, Any] | None = None,
    customer_id: str | None = None,
    customer_attributes: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """`{"trace": [{stepId, name, type, at, outcome, detail}], "endedAs": completed|exited|waiting|failed}`,
    with `exitReason` when it exited and `error` when a step failed."""
    start = current_time()
    injected = _events(events or [], start)
    with _throwaway() as s:
        plan, journey = _plan(s, journey_id, document)
        if plan.first is None:
            raise Invalid("the journey has no steps", field="steps")
        customer = _customer(s, customer_id, customer_attributes, start)
        return _run(s, plan, journey, customer, injected, start)


def _run(
    s: Session,
    plan: Plan,
    journey: dict[str, Any],
    customer_id: str,
    injected: list[dict[str, Any]],
    start: datetime,
) -> dict[str, Any]:
    state = State(new_id("sim"), plan.journey_id, customer_id, plan.first, {"results": {}}, 0, plan.version)
    entry = plan.entry.event_type and next((e for e in injected if e["type"] == plan.entry.event_type), None)
    if entry:
        state.context["event"] = _view(entry)
        injected.remove(entry)
    deadline = start + timedelta(days=plan.max_duration)
    trace: list[dict[str, Any]] = []
    moment, ended, reason, error = start, "waiting", None, None
    # Kept across runs: a branch whose scope is cached from an earlier run (same customer, same moment) reads
    # the same values and does not ask again.
    seen: dict[str, dict[str, Any]] = {}
    while len(trace) < MAX_TRACE:
        run = _Observed(
            session=s,
            now=moment,
            enrollment_id=state.id,
            customer_id=customer_id,
            journey=journey,
            context=state.context,
            dry_run=True,
            load_customer=lambda cid: customers.customer_view(s, cid),
            load_outcome=lambda _id, at=moment: _outcome(injected, at),
            seen=seen,
        )
        try:
            executed = walk(state, plan, run, Tally(), s.begin_nested)
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
    state.context["event"] = _view(event)
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


def _item(executed: Any, plan: Plan, run: _Observed) -> dict[str, Any]:
    result = executed.result
    step = plan.steps.get(executed.step_id)
    detail = dict(result.detail)
    if isinstance(step, BranchStep) and isinstance(detail.get("conditions"), list):
        detail["conditions"] = [
            {**checked, "expression": condition.expression, "values": _read(condition.expression, run.seen)}
            for checked, condition in zip(detail["conditions"], step.config.conditions, strict=False)
        ]
    elif executed.type == "decide" and "storedAs" in detail:
        detail.update(_chosen(detail, run.results.get(detail["storedAs"]) or []))
    return {
        "stepId": executed.step_id,
        "name": (step.name if step else "") or executed.step_id,
        "type": executed.type,
        "at": iso(executed.at),
        "outcome": result.outcome,
        "detail": detail,
    }


def _read(expression: str, seen: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What a condition read, by path (`customer.age` -> 23; a missing field -> None), as it was evaluated."""
    variables = seen.get(expression)
    if variables is None:
        return {}
    values: dict[str, Any] = {}
    for name in sorted(names(expression) - UNSHOWN_NAMES):
        if name not in variables:
            continue
        value = variables[name]
        wanted = fields(expression, name) if isinstance(value, dict) else None
        if wanted:
            values.update({f"{name}.{key}": value.get(key) for key in sorted(wanted)})
        elif not isinstance(value, dict | list):
            values[name] = value
    return values


def _chosen(detail: dict[str, Any], stored: list[dict[str, Any]]) -> dict[str, Any]:
    """The decide step's offers with names and scores, and how many were eligible (chosen or ranked below)."""
    chosen = [{"offerId": offer["offerId"], "name": offer.get("name"), "score": offer.get("score")}
              for offer in stored]
    if [offer["offerId"] for offer in chosen] != detail.get("offers"):
        return {}  # a later decide step stored under the same name: leave the ids as they are
    ranked_below = sum(1 for entry in detail.get("trace") or [] if entry.get("rule") == "maxOffers")
    return {"chosen": chosen, "eligible": len(chosen) + ranked_below}


def _view(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": event["id"],
        "type": event["type"],
        "properties": event["properties"],
        "occurredAt": iso(event["at"]),
    }


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
        return plan, {"id": plan.journey_id, "name": document.get("name", ""), "version": plan.version}
    row = s.get(Journey, journey_id) if journey_id else None
    if row is None:
        raise NotFound(f"journey {journey_id} not found")
    return plan_of(row), {"id": row.id, "name": row.name, "version": row.version}


def _customer(
    s: Session, customer_id: str | None, attributes: dict[str, Any] | None, moment: datetime
) -> str:
    """The customer to simulate: a real one (attributes overridden for the run) or a throwaway one. Either way
    the first statement writes: that opens the real transaction the executors' savepoints nest in (SQLite)."""
    if customer_id:
        row = fetch(s, Customer, customer_id, "customer", "customerId")
        merged = {**(row.attributes or {}), **(attributes or {})}
        s.execute(update(Customer).where(Customer.id == customer_id).values(attributes=merged))
        s.expire(row)
        if attributes:
            segments.reevaluate(s, customer_id, moment)
        return customer_id
    simulated = new_id("sim")
    s.add(
        Customer(
            id=simulated, attributes=dict(attributes or {}), flags={}, created_at=moment, updated_at=moment
        )
    )
    s.flush()
    segments.reevaluate(s, simulated, moment)
    return simulated


@contextmanager
def _throwaway() -> Iterator[Session]:
    """A session whose transaction is always rolled back."""
    with core().db.engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield Session(bind=connection)
        finally:
            transaction.rollback()
