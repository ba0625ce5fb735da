"""Turns a journey document into what the canvas draws: nodes (with summaries and ports) and edges."""

from __future__ import annotations

from typing import Any

from engine.journeys.graph import ENTRY_ID, first_step_id
from engine.journeys.graph import outputs as step_outputs
from engine.journeys.layout import LAYER_GAP
from engine.journeys.steps import KINDS
from engine.journeys.steps.base import name_of
from engine.references import References
from ui.components.step_panels import PANELS, STEP_STYLE, UNKNOWN_STYLE

# step type -> the name palette, panels and new steps use
TYPE_NAMES = {kind: step_kind.name for kind, step_kind in KINDS.items()}
ENTRY_STYLE = ("login", "#64748b")
NO_NAMES = References()


def deciders(steps: list[dict[str, Any]]) -> dict[str, str]:
    """storeResultAs name -> the name of the (last) decide step storing it: what `offerFrom` reads as."""
    return {
        config["storeResultAs"]: step.get("name") or step.get("id", "")
        for step in steps
        if step.get("type") == "decide" and (config := step.get("config") or {}).get("storeResultAs")
    }


def step_summary(step: dict[str, Any], refs: References = NO_NAMES,
                 decided_by: dict[str, str] | None = None) -> str:
    """A one-line description of a step's config in names, as its type words it, e.g. "3 days"."""
    panel = PANELS.get(step.get("type") or "")
    return panel.summary(step.get("config") or {}, refs, decided_by or {}) if panel else ""


def entry_summary(entry: dict[str, Any], refs: References = NO_NAMES) -> str:
    """The Entry node's line: how customers get in."""
    parts = []
    if entry.get("segmentId"):
        parts.append(f"joins {name_of(refs.segments, entry['segmentId'])}")
    if entry.get("eventType"):
        parts.append(f"event {entry['eventType']}")
    text = " · ".join(parts) or "manual enrollment"
    return f"{text} (if …)" if entry.get("condition") else text


def build_nodes(document: dict[str, Any], issues: list[dict[str, Any]] | None = None,
                refs: References = NO_NAMES) -> list[dict[str, Any]]:
    """Canvas nodes: the Entry node first, then one per step with style, summary (in the names of `refs`),
    ports and issues."""
    steps = document.get("steps") or []
    decided_by = deciders(steps)
    by_step: dict[str, list[dict[str, Any]]] = {}
    for issue in issues or []:
        by_step.setdefault(issue.get("stepId") or ENTRY_ID, []).append(issue)
    first = _position(steps[0], 0) if steps else {"x": LAYER_GAP + 40, "y": 80}
    entry = {
        "id": ENTRY_ID,
        "type": "entry",
        "name": "Entry",
        "icon": ENTRY_STYLE[0],
        "color": ENTRY_STYLE[1],
        "summary": entry_summary(document.get("entryConditions") or {}, refs),
        "x": first["x"] - LAYER_GAP,
        "y": first["y"],
        "input": False,
        "ports": [{"key": "next", "branch": None}],
        **_issue_fields(by_step.get(ENTRY_ID, [])),
    }
    nodes = [entry]
    for index, step in enumerate(steps):
        icon, color = STEP_STYLE.get(step.get("type", ""), UNKNOWN_STYLE)
        position = _position(step, index)
        nodes.append(
            {
                "id": step.get("id", ""),
                "type": step.get("type", ""),
                "name": step.get("name") or step.get("id", ""),
                "icon": icon,
                "color": color,
                "summary": step_summary(step, refs, decided_by),
                "x": position["x"],
                "y": position["y"],
                "input": True,
                "ports": [{"key": output.port, "branch": output.branch} for output in step_outputs(step)],
                **_issue_fields(by_step.get(step.get("id", ""), [])),
            }
        )
    return nodes


def build_edges(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Canvas edges between existing steps (dangling targets are validation issues, not edges)."""
    steps = document.get("steps") or []
    ids = {step.get("id") for step in steps}
    edges = []
    first = first_step_id(steps)
    if first is not None:
        edges.append(_edge(ENTRY_ID, "next", None, first))
    for step in steps:
        for output in step_outputs(step):
            if output.target and output.target in ids:
                edges.append(_edge(step.get("id", ""), output.port, output.branch, output.target))
    return edges


def edge_key(source: str, target: str) -> str:
    """How edge counts are keyed: "source->target"."""
    return f"{source}->{target}"


def _edge(source: str, port: str, branch: str | None, target: str) -> dict[str, Any]:
    return {"key": f"{source}|{port}", "source": source, "port": port, "branch": branch, "target": target}


def _position(step: dict[str, Any], index: int) -> dict[str, float]:
    position = step.get("position") or {}
    if "x" in position and "y" in position:
        return {"x": float(position["x"]), "y": float(position["y"])}
    return {"x": float(LAYER_GAP + 40 + LAYER_GAP * index), "y": 80.0}


def _issue_fields(issues: list[dict[str, Any]]) -> dict[str, Any]:
    errors = [issue["message"] for issue in issues if issue.get("severity") == "error"]
    warnings = [issue["message"] for issue in issues if issue.get("severity") != "error"]
    return {"errors": errors, "warnings": warnings}
