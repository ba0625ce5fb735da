"""Structural validation of a journey: one function shared by the editor, the API and activation.

It never raises: every finding is a `ValidationIssue` with a stable `code`. Errors block activation;
warnings are advice. The graph checks live here; each step type checks its own config
(`StepKind.check`). Runs on every edit, so it stays linear-ish in the number of steps (CEL compiles are
cached in `engine.expressions`).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from typing import Any

import networkx as nx
from pydantic import ValidationError

from engine.expressions import DEFAULT_LIMITS, Limits, syntax_error
from engine.journeys.graph import edges as graph_edges
from engine.journeys.steps import KINDS
from engine.journeys.steps.base import Checks
from engine.local_time import is_zone
from engine.references import References
from models.journey import STEP_TYPES, JourneyDefinition, JourneyGoal, StepBase, ValidationIssue


def validate(definition: JourneyDefinition, refs: References,
             limits: Limits = DEFAULT_LIMITS) -> list[ValidationIssue]:
    """Every finding about `definition`, errors and warnings, entry conditions first, then steps in order;
    expressions are held to `limits` (the engine's settings: `Limits.of(engine.settings)`)."""
    found = Checks(refs, limits)
    _check_entry(definition, refs, found)
    found.items.extend(goal_issues(definition.goal))
    found.items.extend(zone_issues(definition.timezone))
    if not definition.steps:
        found.error("no_steps", "the journey has no steps")
        return found.items
    steps = found.steps = _unique_steps(definition.steps, found)
    graph = found.graph = _graph(steps, found)
    first = definition.steps[0].id
    reachable = nx.descendants(graph, first) | {first}
    for step_id in steps:
        if step_id not in reachable:
            found.error("unreachable_step", f"step '{step_id}' cannot be reached from the first step",
                        step_id)
    _check_cycles(graph, steps, found)
    found.stored_by = _stored_by(steps)
    for step in steps.values():
        kind = KINDS[step.type]
        kind.check(step, found)
        if not kind.follows_next and step.next:
            found.warning("next_ignored", f"a {step.type} step does not follow `next`; it is ignored",
                          step.id)
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

def _check_entry(definition: JourneyDefinition, refs: References, found: Checks) -> None:
    entry = definition.entry_conditions
    if entry.segment_id and entry.segment_id not in refs.segments:
        found.error("unknown_reference", f"entry segment '{entry.segment_id}' does not exist")
    if entry.condition is not None:
        reason = syntax_error(entry.condition, found.limits)
        if reason:
            found.error("invalid_expression", f"entry condition: {reason}")
    if not entry.segment_id and not entry.event_type:
        found.warning("no_entry_trigger",
                      "no entry segment or event: customers enter only when enrolled by hand")


def goal_issues(goal: JourneyGoal | None) -> list[ValidationIssue]:
    """What is missing from a goal (its day range, 1 to 365, is enforced by its shape)."""
    found = Checks()
    if goal is not None and not goal.event_type.strip():
        found.error("incomplete_goal", "the goal needs the event type that counts as a conversion "
                                       "(for example purchase)")
    return found.items


def zone_issues(timezone: str | None) -> list[ValidationIssue]:
    """A journey's zone that is not an IANA name (None, the workspace default, always is fine)."""
    found = Checks()
    if timezone is not None and not is_zone(timezone):
        found.error("invalid_timezone",
                    f"timezone: '{timezone}' is not an IANA time zone (such as Europe/Berlin)")
    return found.items


def _unique_steps(steps: list[Any], found: Checks) -> dict[str, StepBase]:
    """First step of each id, in document order; later duplicates are reported and left out of the graph."""
    unique: dict[str, StepBase] = {}
    for step in steps:
        if step.id in unique:
            found.error("duplicate_step_id", f"another step already has the id '{step.id}'", step.id)
        else:
            unique[step.id] = step
    return unique


def _graph(steps: dict[str, StepBase], found: Checks) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(steps)
    for step in steps.values():
        for label, target in graph_edges(step):
            if target in steps:
                graph.add_edge(step.id, target)
            else:
                found.error("unknown_target", f"{label} points to '{target}', which is not a step", step.id)
    return graph


def _check_cycles(graph: nx.DiGraph, steps: dict[str, StepBase], found: Checks) -> None:
    # A cycle with no wait runs forever within one batch: look for cycles among the steps that do not pause.
    waits = {step_id for step_id, step in steps.items() if KINDS[step.type].pauses(step)}
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

def _stored_by(steps: dict[str, StepBase]) -> dict[str, list[str]]:
    """Result name -> the steps storing it (what a send's offerFrom may name)."""
    stored: dict[str, list[str]] = {}
    for step in steps.values():
        name = KINDS[step.type].stores(step)
        if name:
            stored.setdefault(name, []).append(step.id)
    return stored


# ---- time -----------------------------------------------------------------------------------------------

def _wait_days(step: StepBase) -> float:
    return KINDS[step.type].wait_days(step)


def _ends_here(step: StepBase, graph: nx.DiGraph) -> bool:
    """True when an enrollment can finish at this step (no way on, an exit among them, or its type says so:
    a branch falling through)."""
    return graph.out_degree(step.id) == 0 or KINDS[step.type].may_end(step)


def _check_max_duration(definition: JourneyDefinition, steps: dict[str, StepBase], graph: nx.DiGraph,
                        first: str, found: Checks) -> None:
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
