"""Turns a journey document into what the canvas draws: nodes (with summaries and ports) and edges."""

from __future__ import annotations

from typing import Any

from engine.journeys.graph import ENTRY_ID, first_step_id
from engine.journeys.graph import outputs as step_outputs
from engine.journeys.layout import LAYER_GAP
from engine.journeys.references import References
from ui.layout import STEP_STYLE

TYPE_NAMES = {  # step type -> the name palette, panels and new steps use
    "wait": "Wait",
    "decide": "Decide",
    "branch": "Branch",
    "send": "Send",
    "update": "Update",
    "split": "Split",
    "exit": "Exit",
}
ENTRY_STYLE = ("login", "#64748b")


UPDATE_WORDS = {  # update operation -> how a summary words it
    "set": "set",
    "increment": "add to",
    "unset": "clear",
    "addSegment": "add to",
    "removeSegment": "remove from",
    "setFlag": "flag",
}
NO_NAMES = References()


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def name_of(names: dict[str, str], key: str) -> str:
    """The name a person reads for an id (the id itself when the catalogue does not know it)."""
    return names.get(key) or key


def deciders(steps: list[dict[str, Any]]) -> dict[str, str]:
    """storeResultAs name -> the name of the (last) decide step storing it: what `offerFrom` reads as."""
    return {
        config["storeResultAs"]: step.get("name") or step.get("id", "")
        for step in steps
        if step.get("type") == "decide" and (config := step.get("config") or {}).get("storeResultAs")
    }


def step_summary(step: dict[str, Any], refs: References = NO_NAMES,
                 decided_by: dict[str, str] | None = None) -> str:
    """A one-line description of a step's config in names, e.g. "3 days", "Loans → 1 offer"."""
    config = step.get("config") or {}
    kind = step.get("type")
    if kind == "wait":
        duration, unit = config.get("duration"), config.get("unit") or "days"
        text = f"{duration} {unit[:-1] if duration == 1 else unit}" if duration else "set a duration"
        return f"{text} or until {config['untilEvent']}" if config.get("untilEvent") else text
    if kind == "decide":
        flow = config.get("decisionFlowId")
        text = name_of(refs.decision_flows, flow) if flow else "choose a decision flow"
        return f"{text} → {_plural(config.get('maxOffers') or 1, 'offer')}"
    if kind == "branch":
        text = _plural(len(config.get("conditions") or []), "condition")
        return f"{text} + default" if config.get("defaultStepId") else text
    if kind == "send":
        return _send_summary(config, refs, decided_by or {})
    if kind == "update":
        operations = config.get("operations") or []
        if not operations:
            return "no changes yet"
        text = operation_words(operations[0], refs)
        return f"{text} +{len(operations) - 1} more" if len(operations) > 1 else text
    if kind == "split":
        paths = config.get("paths") or []
        return " / ".join(f"{path.get('percent', 0):g}%" for path in paths) or "no paths yet"
    if kind == "exit":
        return config.get("reason") or "exit"
    return ""


def _send_summary(config: dict[str, Any], refs: References, decided_by: dict[str, str]) -> str:
    channel_id = config.get("channelId")
    channel = name_of(refs.channels, channel_id) if channel_id else "choose a channel"
    if config.get("offerFrom"):
        what = f"offer from {decided_by.get(config['offerFrom'], config['offerFrom'])}"
    elif config.get("offerId"):
        what = name_of(refs.offers, config["offerId"])
    else:
        subject = ((config.get("template") or {}).get("subject") or "").strip()
        what = f"“{subject[:40]}”" if subject else "message"
    return f"{channel} · {what}"


def operation_words(operation: dict[str, Any], refs: References) -> str:
    """One update operation in words, e.g. "add to Under 30", "set vip"."""
    op = operation.get("op", "")
    if op in ("addSegment", "removeSegment"):
        segment = operation.get("segmentId")
        what = name_of(refs.segments, segment) if segment else "a segment"
    else:
        what = operation.get("attribute") or operation.get("flag") or ""
    return f"{UPDATE_WORDS.get(op, op)} {what}".strip()


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
        icon, color = STEP_STYLE.get(step.get("type", ""), ("help", "#64748b"))
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
