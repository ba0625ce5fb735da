"""What a step executor sees (`Run`) and answers (`StepResult`), and the parsed journey (`Plan`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from engine import expressions
from engine.journeys.graph import first_step_id
from models.journey import EntryConditions, JourneyDefinition, StepBase

# CEL names every condition may use besides the storeResultAs results bound at top level.
BUILTIN_NAMES = ("customer", "outcome", "event", "context", "journey", "now")


@dataclass(frozen=True)
class Plan:
    """A parsed journey definition: steps by id and the entry step."""

    journey_id: str
    version: int
    max_duration: int
    entry: EntryConditions
    steps: dict[str, StepBase]
    first: str | None


def plan_from(journey_id: str, version: int, document: dict[str, Any]) -> Plan:
    """Parse a stored (camelCase) definition; raises pydantic's ValidationError on a malformed one."""
    definition = JourneyDefinition.model_validate(document)
    steps = {step.id: step for step in definition.steps}
    first = first_step_id(definition.steps)
    return Plan(journey_id, version, definition.max_duration, definition.entry_conditions, steps, first)


_plans: dict[tuple[str, int, Any], Plan] = {}


def plan_of(journey: Any) -> Plan:
    """The plan of a Journey row, parsed once per (id, version, updated_at): any edit changes the key."""
    key = (journey.id, journey.version, journey.updated_at)
    plan = _plans.get(key)
    if plan is None:
        document = {
            "maxDuration": journey.max_duration,
            "entryConditions": journey.entry_conditions,
            "steps": journey.steps,
        }
        plan = plan_from(journey.id, journey.version, document)
        if len(_plans) > 1000:
            _plans.clear()
        _plans[key] = plan
    return plan


@dataclass
class StepResult:
    """What a step did: its outcome word, where to go next, and why (the history detail)."""

    outcome: str
    next_step: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    # A wait parks the enrollment: until `wait_until` (None = no deadline) or an event of type `wait_event`.
    waits: bool = False
    wait_until: datetime | None = None
    wait_event: str | None = None
    # An exit step ends the journey with this reason.
    exit_reason: str | None = None


@dataclass
class Run:
    """One enrollment being moved: its identity, state and lazily loaded facts (customer, outcome)."""

    session: Session
    now: datetime
    enrollment_id: str
    customer_id: str
    journey: dict[str, Any]
    context: dict[str, Any]
    visit: int = 0
    # Simulation: steps with outside effects (send) record what they would do instead.
    dry_run: bool = False
    load_customer: Callable[[str], dict[str, Any] | None] = lambda _customer_id: None
    load_outcome: Callable[[str], str | None] = lambda _enrollment_id: None
    # Customer views shared by the enrollments of one batch; an update step refreshes its entry.
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    _outcome: tuple[str | None] | None = None

    def customer(self) -> dict[str, Any]:
        view = self.customers.get(self.customer_id)
        if view is None:
            view = self.load_customer(self.customer_id)
            if view is None:
                raise LookupError(f"customer {self.customer_id} not found")
            self.customers[self.customer_id] = view
        return view

    def replace_customer(self, view: dict[str, Any]) -> None:
        """After an update step: later steps (and enrollments) see the changed customer."""
        self.customers[self.customer_id] = view

    def outcome(self) -> str | None:
        if self._outcome is None:
            self._outcome = (self.load_outcome(self.enrollment_id),)
        return self._outcome[0]

    @property
    def results(self) -> dict[str, Any]:
        """The storeResultAs results (what CEL calls `context`)."""
        return self.context.setdefault("results", {})

    def variables(self, expression: str) -> dict[str, Any]:
        """The CEL variables the expression reads; customer and outcome cost queries, so only those load."""
        used = expressions.names(expression)
        results = self.results
        variables: dict[str, Any] = {
            name: value for name, value in results.items() if name in used and name not in BUILTIN_NAMES
        }
        values: dict[str, Callable[[], Any]] = {
            "context": lambda: results,
            "journey": lambda: self.journey,
            "now": lambda: self.now,
            "event": lambda: self.context.get("event"),
            "customer": self.customer,
            "outcome": self.outcome,
        }
        for name in used.intersection(values):
            variables[name] = values[name]()
        return variables
