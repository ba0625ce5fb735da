"""What every step type shares: its output handles (`Output`), what an executor sees (`Run`) and answers
(`StepResult` with a typed `Detail`), the validation findings it adds to (`Checks`), and the base class
each step type module fills in (`StepKind`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Self

import networkx as nx
from sqlmodel import Session

from engine import expressions
from engine.counters import Tally
from engine.engine import Engine
from engine.references import References
from engine.unit_of_work import UnitOfWork
from models.journey import StepBase, ValidationIssue

# CEL names every condition may use besides the storeResultAs results bound at top level.
BUILTIN_NAMES = ("customer", "outcome", "event", "context", "journey", "now")


@dataclass(frozen=True)
class Output:
    """One output handle of a step: `port` key ("next", "cond:0", "default", "path:1"), its label, target."""

    port: str
    branch: str | None
    target: str | None


class Detail:
    """Why a step did what it did: typed for the runtime, the simulator and the words; stored in history as
    the JSON of `to_json` (the keys the history has always had), read back with `from_json`."""

    def to_json(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        raise NotImplementedError


@dataclass(slots=True)
class Failed(Detail):
    """A step that raised (or a step the definition does not have)."""

    error: str

    def to_json(self) -> dict[str, Any]:
        return {"error": self.error}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Failed:
        return cls(str(data.get("error") or "unknown error"))


@dataclass(slots=True)
class StepResult:
    """What a step did: its outcome word, where to go next, and why (the typed history detail)."""

    outcome: str
    next_step: str | None
    detail: Detail
    # A wait parks the enrollment: until `wait_until` (None = no deadline) or an event of type `wait_event`.
    waits: bool = False
    wait_until: datetime | None = None
    wait_event: str | None = None
    # An exit step ends the journey with this reason.
    exit_reason: str | None = None


@dataclass
class Run:
    """One enrollment being moved: its identity, state and lazily loaded facts (customer, outcome)."""

    uow: UnitOfWork
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
    # Where a writing step counts what it writes (a delivery queued): empty before each step, and moved
    # into the enrollment's tally by the runner only once the step succeeded, as only then do its rows stand.
    tally: Tally = field(default_factory=Tally)
    _outcome: tuple[str | None] | None = None

    @property
    def engine(self) -> Engine:
        return self.uow.engine

    @property
    def session(self) -> Session:
        return self.uow.session

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


@dataclass
class Checks:
    """Validation findings in the order they are found, and what a step's checks may ask of the journey."""

    refs: References = field(default_factory=References)
    limits: expressions.Limits = expressions.DEFAULT_LIMITS
    steps: Mapping[str, StepBase] = field(default_factory=dict)
    graph: nx.DiGraph = field(default_factory=nx.DiGraph)
    items: list[ValidationIssue] = field(default_factory=list)
    # Result name -> the steps storing it (see `StepKind.stores`).
    stored_by: Mapping[str, list[str]] = field(default_factory=dict)
    _after: dict[str, set[str] | None] = field(default_factory=dict)

    def error(self, code: str, message: str, step_id: str | None = None) -> None:
        self.items.append(ValidationIssue(severity="error", code=code, step_id=step_id, message=message))

    def warning(self, code: str, message: str, step_id: str | None = None) -> None:
        self.items.append(ValidationIssue(severity="warning", code=code, step_id=step_id, message=message))

    def after_result(self, name: str) -> set[str] | None:
        """The steps downstream of a step storing the result `name` (None when no step stores it); one
        traversal per name however many steps ask."""
        if name not in self._after:
            stored_by = self.stored_by.get(name)
            self._after[name] = set().union(*(nx.descendants(self.graph, s) for s in stored_by)) \
                if stored_by else None
        return self._after[name]


@dataclass(frozen=True)
class Said:
    """A step run as the words see it: from a test run's trace or an enrollment's history."""

    label: str  # e.g. "Decide 'Pick offer'"
    name: str  # the step's name, quoted
    outcome: str | None
    refs: References


class StepKind:
    """One step type: the base answers for a plain step that runs and follows `next`; a type's module
    overrides what differs. The registry (`engine.journeys.steps.KINDS`) holds one instance per type."""

    type: ClassVar[str]
    name: ClassVar[str]  # what palette, panels, new steps and words call it
    schema: ClassVar[type[StepBase]]
    detail: ClassVar[type[Detail]]
    # True when it writes the database: the runner runs it inside a savepoint, so a failure rolls back only
    # that step of that enrollment. A reading step needs none (a savepoint costs two statements).
    writes_db: ClassVar[bool] = False
    follows_next: ClassVar[bool] = True  # False: its own outputs say where to go (`next` is ignored)

    # ---- graph --------------------------------------------------------------------------------------
    def outputs(self, config: Mapping[str, Any], following: str | None) -> list[Output]:
        """Its output handles in display order, from the config in wire form."""
        return [Output("next", None, following)]

    def wire_config(self, step: StepBase) -> dict[str, Any]:
        """What `outputs` reads of a parsed step's config (nothing for a type that only follows `next`)."""
        return {}

    def stores(self, step: StepBase) -> str | None:
        """The result name later steps read this step's output under (decide's storeResultAs)."""
        return None

    def wait_days(self, step: StepBase) -> float:
        """How long an enrollment stays at this step at least (a wait's duration)."""
        return 0.0

    def pauses(self, step: StepBase) -> bool:
        """True when an enrollment stops here until later (a loop through it is not endless)."""
        return False

    def may_end(self, step: StepBase) -> bool:
        """True when an enrollment can finish here although the step has outputs (a branch with no
        default falls through)."""
        return False

    # ---- validation, running, simulating ------------------------------------------------------------
    def check(self, step: Any, checks: Checks) -> None:
        """Type-specific findings about a (parsed) step of this type."""

    def execute(self, step: Any, run: Run) -> StepResult:
        raise NotImplementedError

    def explain(self, step: Any, detail: Any, run: Run, seen: Mapping[str, dict[str, Any]]) -> Detail:
        """The detail a test run shows: what a live run records, plus what helps a person (the simulator
        calls this; `seen` holds the variables each expression was evaluated with)."""
        return detail

    # ---- words --------------------------------------------------------------------------------------
    def words(self, detail: Any, said: Said) -> str:
        """One sentence for a run of this step, e.g. "Wait 2 days"."""
        return f"{said.label}: {said.outcome}"

    def lines(self, detail: Any) -> list[str]:
        """Lines under the sentence (a branch's conditions checked); none by default."""
        return []


def quoted(text: str) -> str:
    return f"'{text}'"


def name_of(names: Mapping[str, str], key: str) -> str:
    """The name a person reads for an id (the id itself when the catalogue does not know it)."""
    return names.get(key) or key


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def each(items: Any) -> Iterator[Mapping[str, Any]]:
    """The mappings of a stored list (history written by older versions may hold anything)."""
    for item in items if isinstance(items, list) else ():
        if isinstance(item, Mapping):
            yield item
