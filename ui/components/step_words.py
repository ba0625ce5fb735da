"""Journey steps told in words, in the catalogue's names: one sentence per step run (a test run's trace, an
enrollment's history on the monitor and on the customer's page) and the conditions a branch checked."""

from __future__ import annotations

import json
import math
from typing import Any

from engine.journeys.references import References
from ui.components.flow_model import TYPE_NAMES, name_of, operation_words


def quoted(text: str) -> str:
    return f"'{text}'"


def value_text(value: Any) -> str:
    """A value read by a condition, as a person reads it (missing, text, numbers, lists)."""
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:g}"
    if isinstance(value, str):
        return quoted(value)
    return json.dumps(value, default=str)


def condition_lines(detail: dict[str, Any]) -> list[str]:
    """One line per branch condition checked: held or not, its expression and the values it read."""
    lines = []
    for condition in detail.get("conditions") or []:
        mark = "✓" if condition.get("value") else "✗"
        read = (condition.get("values") or {}).items()
        values = ", ".join(f"{path} = {value_text(value)}" for path, value in read)
        line = f"{mark} {quoted(condition.get('label', ''))}: {condition.get('expression', '')}"
        line += f" with {values}" if values else ""
        if condition.get("error"):
            line += f" (counts as false: {condition['error']})"
        lines.append(line)
    return lines


def describe(item: dict[str, Any], refs: References) -> str:
    """One trace item in words, e.g. "Decide 'Pick offer': chose 'Summer sale' (score 0.42) of 3 eligible"."""
    kind = item.get("type", "")
    detail = item.get("detail") or {}
    outcome = item.get("outcome")
    name = quoted(item.get("name") or item.get("stepId", ""))
    step = f"{TYPE_NAMES.get(kind, kind.title() or 'Step')} {name}"
    if outcome == "failed":
        return f"{step} failed: {detail.get('error', 'unknown error')}"
    if kind == "wait":
        duration, unit = detail.get("duration"), detail.get("unit") or "days"
        text = f"Wait {duration} {unit[:-1] if duration == 1 else unit}" if duration else "Wait"
        return f"{text} or until event {detail['untilEvent']}" if detail.get("untilEvent") else text
    if kind == "decide":
        chosen = detail.get("chosen") or [
            {"name": name_of(refs.offers, offer)} for offer in detail.get("offers") or []]
        if not chosen:
            return f"{step}: no offer qualified ({detail.get('filtered', 0)} filtered out)"
        picks = ", ".join(
            quoted(offer.get("name") or offer.get("offerId", ""))
            + (f" (score {offer['score']:.2g})" if isinstance(offer.get("score"), int | float) else "")
            for offer in chosen)
        eligible = f" of {detail['eligible']} eligible" if detail.get("eligible") else ""
        return f"{step}: chose {picks}{eligible}"
    if kind == "branch":
        matched = detail.get("matched")
        if matched:
            return f"{step} → {quoted(matched)}"
        return f"{step}: no condition held → default" if outcome == "default" else \
            f"{step}: no condition held and no default"
    if kind == "send":
        channel = quoted(name_of(refs.channels, detail.get("channelId") or ""))
        if outcome == "no_offer":
            return f"{step} via {channel}: nothing to send ({detail.get('reason', 'no offer')})"
        offer = detail.get("offerId")
        return f"{step} via {channel}" + (f", offer {quoted(name_of(refs.offers, offer))}" if offer else "")
    if kind == "update":
        operations = detail.get("operations") or []
        return f"{step}: " + (", ".join(operation_words(op, refs) for op in operations) or "no changes")
    if kind == "split":
        return f"{step} → path {quoted(detail.get('path') or '')}"
    if kind == "exit":
        return f"Reached Exit {name} (reason: {detail.get('reason')})"
    return f"{step}: {outcome}"
