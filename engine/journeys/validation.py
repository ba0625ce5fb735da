"""Structural validation of a journey: one function shared by the editor, the API and activation.

It never raises: every finding is a `ValidationIssue` with a stable `code`. Errors block activation;
warnings are advice. Runs on every edit, so it stays linear-ish in the number of steps (CEL compiles are
cached in `engine.expressions`).
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable
from typing import Any

import networkx as nx
from pydantic import ValidationError

from engine.delivery import templates
from engine.expressions import syntax_error
from engine.journeys.graph import edges as graph_edges
from engine.journeys.references import References
from models.journey import (
    STEP_TYPES,
    BranchStep,
    DecideStep,
    ExitStep,
    JourneyDefinition,
    JourneyGoal,
    SendStep,
    SplitStep,
    StepBase,
    UpdateStep,
    ValidationIssue,
    WaitStep,
)

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Names the runtime binds in CEL; a `storeResultAs` of the same name would shadow them.
RESERVED_NAMES = frozenset({"customer", "outcome", "event", "context", "journey", "now"})
DAYS_PER_UNIT = {"minutes": 1 / 1440, "hours": 1 / 24, "days": 1.0}
ATTRIBUTE_OPS = ("set", "increment", "unset")
SEGMENT_OPS = ("addSegment", "removeSegment")


class _Findings:
    """Collects issues in the order they are found."""

    def __init__(self) -> None:
        self.items: list[ValidationIssue] = []

    def error(self, code: str, message: str, step_id: str | None = None) -> None:
        self.items.append(ValidationIssue(severity="error", code=code, step_id=step_id, message=message))

    def warning(self, code: str, message: str, step_id: str | None = None) -> None:
        self.items.append(ValidationIssue(severity="warning", code=code, step_id=step_id, message=message))


def validate(definition: JourneyDefinition, refs: References) -> list[ValidationIssue]:
    """Every finding about `definition`, errors and warnings, entry conditions first, then steps in order."""
    found = _Findings()
    _check_entry(definition, refs, found)
    found.items.extend(goal_issues(definition.goal))
    if not definition.steps:
        found.error("no_steps", "the journey has no steps")
        return found.items
    steps = _unique_steps(definition.steps, found)
    graph = _graph(steps, found)
    first = definition.steps[0].id
    reachable = nx.descendants(graph, first) | {first}
    for step_id in steps:
        if step_id not in reachable:
            found.error("unreachable_step", f"step '{step_id}' cannot be reached from the first step",
                        step_id)
    _check_cycles(graph, steps, found)
    offer_sources = _offer_sources(steps, graph)
    for step in steps.values():
        _check_step(step, offer_sources, refs, found)
    _check_max_duration(definition, steps, graph, first, found)
    return found.items


def shape_issues(error: ValidationError, document: Any) -> list[ValidationIssue]:
    """Pydantic errors on a document as `invalid_shape` issues, naming the step when they are in one."""
    issues = []
    for item in error.errors():
        loc = tuple(item.get("loc", ()))
        field = field_path(loc)
        issues.append(ValidationIssue(
            severity="error", code="invalid_shape", step_id=_step_id_at(loc, document),
            message=f"{field}: {item.get('msg', 'invalid')}",
        ))
    return issues


def field_path(loc: Iterable[Any]) -> str:
    """A pydantic error location as a dotted path without union tags (steps.0.wait.x -> steps.0.x)."""
    return ".".join(str(part) for part in loc if part not in STEP_TYPES) or "body"


def _step_id_at(loc: tuple[Any, ...], document: Any) -> str | None:
    if len(loc) < 2 or loc[0] != "steps" or not isinstance(loc[1], int) or not isinstance(document, dict):
        return None
    steps = document.get("steps")
    if not isinstance(steps, list) or loc[1] >= len(steps) or not isinstance(steps[loc[1]], dict):
        return None
    step_id = steps[loc[1]].get("id")
    return step_id if isinstance(step_id, str) else None


# ---- entry, ids and graph --------------------------------------------------------------------------------

def _check_entry(definition: JourneyDefinition, refs: References, found: _Findings) -> None:
    entry = definition.entry_conditions
    if entry.segment_id and entry.segment_id not in refs.segments:
        found.error("unknown_reference", f"entry segment '{entry.segment_id}' does not exist")
    if entry.condition is not None:
        reason = syntax_error(entry.condition)
        if reason:
            found.error("invalid_expression", f"entry condition: {reason}")
    if not entry.segment_id and not entry.event_type:
        found.warning("no_entry_trigger",
                      "no entry segment or event: customers enter only when enrolled by hand")


def goal_issues(goal: JourneyGoal | None) -> list[ValidationIssue]:
    """What is missing from a goal (its day range, 1 to 365, is enforced by its shape)."""
    found = _Findings()
    if goal is not None and not goal.event_type.strip():
        found.error("incomplete_goal", "the goal needs the event type that counts as a conversion "
                                       "(for example purchase)")
    return found.items


def _unique_steps(steps: list[Any], found: _Findings) -> dict[str, StepBase]:
    """First step of each id, in document order; later duplicates are reported and left out of the graph."""
    unique: dict[str, StepBase] = {}
    for step in steps:
        if step.id in unique:
            found.error("duplicate_step_id", f"another step already has the id '{step.id}'", step.id)
        else:
            unique[step.id] = step
    return unique


def _graph(steps: dict[str, StepBase], found: _Findings) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(steps)
    for step in steps.values():
        for label, target in graph_edges(step):
            if target in steps:
                graph.add_edge(step.id, target)
            else:
                found.error("unknown_target", f"{label} points to '{target}', which is not a step", step.id)
    return graph


def _check_cycles(graph: nx.DiGraph, steps: dict[str, StepBase], found: _Findings) -> None:
    # A cycle with no wait runs forever within one batch: look for cycles among the non-wait steps.
    waits = {step_id for step_id, step in steps.items() if isinstance(step, WaitStep)}
    instant = nx.DiGraph()  # a plain copy: networkx subgraph views are slow to traverse
    instant.add_nodes_from(step_id for step_id in steps if step_id not in waits)
    instant.add_edges_from((u, v) for u, v in graph.edges if u not in waits and v not in waits)
    order = {step_id: index for index, step_id in enumerate(steps)}
    for component in nx.strongly_connected_components(instant):
        member = next(iter(component))
        if len(component) == 1 and not instant.has_edge(member, member):
            continue
        members = sorted(component, key=order.__getitem__)
        found.error(
            "cycle_without_wait",
            f"steps {', '.join(repr(m) for m in members)} form a loop with no wait step: "
            "it would never pause",
            members[0],
        )


# ---- per step -------------------------------------------------------------------------------------------

def _offer_sources(steps: dict[str, StepBase], graph: nx.DiGraph) -> dict[str, set[str] | None]:
    """For each name a send step takes its offer from: the steps downstream of a decide step storing it
    (None when no decide step stores it). One traversal per name rather than one per send step."""
    deciders: dict[str, list[str]] = {}
    for step in steps.values():
        if isinstance(step, DecideStep) and step.config.store_result_as:
            deciders.setdefault(step.config.store_result_as, []).append(step.id)
    sources: dict[str, set[str] | None] = {}
    for step in steps.values():
        name = step.config.offer_from if isinstance(step, SendStep) else None
        if name and name not in sources:
            found = deciders.get(name)
            sources[name] = set().union(*(nx.descendants(graph, d) for d in found)) if found else None
    return sources


def _check_step(step: StepBase, offer_sources: dict[str, set[str] | None], refs: References,
                found: _Findings) -> None:
    if isinstance(step, WaitStep):
        if step.config.duration is None:
            found.error("missing_config", "wait has no duration", step.id)
    elif isinstance(step, DecideStep):
        _check_decide(step, refs, found)
    elif isinstance(step, BranchStep):
        _check_branch(step, found)
    elif isinstance(step, SendStep):
        _check_send(step, offer_sources, refs, found)
    elif isinstance(step, UpdateStep):
        _check_update(step, refs, found)
    elif isinstance(step, SplitStep):
        _check_split(step, found)
    if isinstance(step, BranchStep | SplitStep | ExitStep) and step.next:
        found.warning("next_ignored", f"a {step.type} step does not follow `next`; it is ignored", step.id)


def _check_decide(step: DecideStep, refs: References, found: _Findings) -> None:
    config = step.config
    if not config.decision_flow_id:
        found.error("missing_config", "decide has no decision flow", step.id)
    elif config.decision_flow_id not in refs.decision_flows:
        found.error("unknown_reference", f"decision flow '{config.decision_flow_id}' does not exist", step.id)
    name = config.store_result_as
    if not name:
        found.error("missing_config", "decide has no storeResultAs name", step.id)
    elif not IDENTIFIER.match(name):
        found.error("invalid_config", f"storeResultAs '{name}' is not an identifier (letters, digits, _)",
                    step.id)
    elif name in RESERVED_NAMES:
        found.error("invalid_config", f"storeResultAs '{name}' would hide the built-in variable", step.id)


def _check_branch(step: BranchStep, found: _Findings) -> None:
    config = step.config
    if not config.conditions:
        found.error("missing_config", "branch has no conditions", step.id)
    for index, condition in enumerate(config.conditions, start=1):
        name = f"condition {index}" + (f" ({condition.label})" if condition.label else "")
        if not condition.expression.strip():
            found.error("missing_config", f"{name} has no expression", step.id)
        else:
            reason = syntax_error(condition.expression)
            if reason:
                found.error("invalid_expression", f"{name}: {reason}", step.id)
        if not condition.target_step_id:
            found.error("missing_config", f"{name} has no target step", step.id)
    if not config.default_step_id:
        found.warning("branch_without_default", "no default step: when no condition holds the journey ends",
                      step.id)


def _check_send(step: SendStep, offer_sources: dict[str, set[str] | None], refs: References,
                found: _Findings) -> None:
    config = step.config
    if not config.channel_id:
        found.error("missing_config", "send has no channel", step.id)
    elif config.channel_id not in refs.channels:
        found.error("unknown_reference", f"channel '{config.channel_id}' does not exist", step.id)
    if config.offer_from and config.offer_id:
        found.error("invalid_config", "give either offerFrom or offerId, not both", step.id)
    elif config.offer_id:
        if config.offer_id not in refs.offers:
            found.error("unknown_reference", f"offer '{config.offer_id}' does not exist", step.id)
    elif config.offer_from:
        downstream = offer_sources[config.offer_from]
        if downstream is None:
            found.error("invalid_config",
                        f"offerFrom '{config.offer_from}' is not the storeResultAs of any decide step",
                        step.id)
        elif step.id not in downstream:
            found.error("invalid_config", f"offerFrom '{config.offer_from}' is stored by a decide step that "
                                          "does not come before this step", step.id)
    elif not (config.template and (config.template.body or "").strip()):
        found.error("missing_config", "send needs a message (a template with a body) or an offer: "
                                      "offerFrom (a decide result) or offerId", step.id)
    for part in ("subject", "body"):
        source = getattr(config.template, part) if config.template else None
        reason = templates.check(source) if source else None
        if reason:
            found.error("invalid_template", f"message {part}: {reason}", step.id)


def _check_update(step: UpdateStep, refs: References, found: _Findings) -> None:
    if not step.config.operations:
        found.error("missing_config", "update has no operations", step.id)
    for index, operation in enumerate(step.config.operations, start=1):
        name = f"operation {index} ({operation.op})"
        if operation.op in ATTRIBUTE_OPS and not operation.attribute:
            found.error("missing_config", f"{name} has no attribute", step.id)
        if operation.op == "increment" and operation.value is not None and (
                isinstance(operation.value, bool) or not isinstance(operation.value, int | float)):
            found.error("invalid_config", f"{name}: the value to add must be a number", step.id)
        if operation.op in SEGMENT_OPS:
            if not operation.segment_id:
                found.error("missing_config", f"{name} has no segment", step.id)
            elif operation.segment_id not in refs.segments:
                found.error("unknown_reference", f"segment '{operation.segment_id}' does not exist", step.id)
        if operation.op == "setFlag" and not operation.flag:
            found.error("missing_config", f"{name} has no flag", step.id)


def _check_split(step: SplitStep, found: _Findings) -> None:
    paths = step.config.paths
    if not paths:
        found.error("missing_config", "split has no paths", step.id)
        return
    for index, path in enumerate(paths, start=1):
        if not path.target_step_id:
            found.error("missing_config", f"path {index} has no target step", step.id)
    total = sum(path.percent for path in paths)
    if abs(total - 100) > 1e-6:
        found.error("invalid_config", f"split percentages add up to {total:g}, not 100", step.id)


# ---- time -----------------------------------------------------------------------------------------------

def _wait_days(step: StepBase) -> float:
    if isinstance(step, WaitStep) and step.config.duration is not None:
        return step.config.duration * DAYS_PER_UNIT[step.config.unit]
    return 0.0


def _ends_here(step: StepBase, graph: nx.DiGraph) -> bool:
    """True when an enrollment can finish at this step (no way on, an exit, or a branch falling through)."""
    if isinstance(step, ExitStep) or graph.out_degree(step.id) == 0:
        return True
    return isinstance(step, BranchStep) and not step.config.default_step_id


def _check_max_duration(definition: JourneyDefinition, steps: dict[str, StepBase], graph: nx.DiGraph,
                        first: str, found: _Findings) -> None:
    # Dijkstra over wait time: the quickest way from the entry to any end. If even that takes longer than
    # maxDuration, every enrollment will be cut off by the limit.
    best: dict[str, float] = {}
    queue = [(_wait_days(steps[first]), first)]
    while queue:
        elapsed, step_id = heapq.heappop(queue)
        if step_id in best:
            continue
        best[step_id] = elapsed
        if _ends_here(steps[step_id], graph):
            if elapsed > definition.max_duration:
                found.warning(
                    "max_duration_exceeded",
                    f"every path waits at least {elapsed:g} days, more than maxDuration "
                    f"({definition.max_duration} days): customers will be exited before the end",
                )
            return
        for target in graph.successors(step_id):
            if target not in best:
                heapq.heappush(queue, (elapsed + _wait_days(steps[target]), target))
