"""The journey graph, defined once: the entry node's id, a step's outputs (port, label, target) and its edges,
and the first step. Pure functions over steps in wire form (dicts; drafts may be incomplete) or parsed
(`models.journey.StepBase`), shared by validation, layout, the editor's flow model and the runtime."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from models.journey import StepBase

# The entry node (before the first step): the canvas draws it, counters count entries on its edge.
ENTRY_ID = "__entry__"


@dataclass(frozen=True)
class Output:
    """One output handle of a step: `port` key ("next", "cond:0", "default", "path:1"), its label, target."""

    port: str
    branch: str | None
    target: str | None


Step = Mapping[str, Any] | StepBase


def outputs(step: Step) -> list[Output]:
    """The output handles of a step in display order; branch/split steps get one per condition/path, an exit
    step none, every other step its `next`."""
    kind, config, following = _parts(step)
    if kind == "branch":
        handles = [
            Output(f"cond:{index}", condition.get("label") or f"condition {index + 1}",
                   condition.get("targetStepId"))
            for index, condition in enumerate(config.get("conditions") or [])
        ]
        return [*handles, Output("default", "default", config.get("defaultStepId"))]
    if kind == "split":
        return [
            Output(f"path:{index}", path.get("label") or f"path {index + 1}", path.get("targetStepId"))
            for index, path in enumerate(config.get("paths") or [])
        ]
    if kind == "exit":
        return []
    return [Output("next", None, following)]


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


def _parts(step: Step) -> tuple[str | None, dict[str, Any], str | None]:
    """(type, config in wire form, next) of either kind of step."""
    if isinstance(step, Mapping):
        return step.get("type"), step.get("config") or {}, step.get("next")
    config = step.config.model_dump(by_alias=True, include={"conditions", "default_step_id", "paths"}) \
        if step.type in ("branch", "split") else {}
    return step.type, config, step.next
