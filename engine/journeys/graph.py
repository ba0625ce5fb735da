"""The journey graph, defined once: the entry node's id, a step's outputs (port, label, target) and its edges,
and the first step. Pure functions over steps in wire form (dicts; drafts may be incomplete) or parsed
(`models.journey.StepBase`), shared by validation, layout, the editor's flow model and the runtime; each
step type says what its outputs are (`engine.journeys.steps`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.journeys.steps import KINDS
from engine.journeys.steps.base import Output
from models.journey import StepBase

__all__ = ["ENTRY_ID", "Output", "edges", "first_step_id", "outputs"]

# The entry node (before the first step): the canvas draws it, counters count entries on its edge.
ENTRY_ID = "__entry__"

Step = Mapping[str, Any] | StepBase


def outputs(step: Step) -> list[Output]:
    """The output handles of a step in display order, as its type says (e.g. one per branch condition, none
    for an exit); a step of an unknown type (a draft) follows its `next`."""
    if isinstance(step, Mapping):
        kind, following = KINDS.get(step.get("type") or ""), step.get("next")
        if kind is None:
            return [Output("next", None, following)]
        return kind.outputs(step.get("config") or {}, following)
    kind = KINDS[step.type]
    return kind.outputs(kind.wire_config(step), step.next)


def edges(step: Step) -> list[tuple[str, str]]:
    """Every outgoing edge a step has set, as (label, target id): "next", a condition's label, "default",
    a path's label."""
    return [(output.branch or "next", output.target) for output in outputs(step) if output.target]


def first_step_id(steps: Sequence[Step]) -> str | None:
    """Where the entry leads: the first step's id (None for a journey without steps)."""
    if not steps:
        return None
    first = steps[0]
    step_id = first.get("id") if isinstance(first, Mapping) else first.id
    return step_id or None
