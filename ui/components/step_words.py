"""Journey steps told in words, in the catalogue's names: one sentence per step run (a test run's trace, an
enrollment's history on the monitor and on the customer's page) and the lines under it (the conditions a
branch checked). Each step type words its own typed detail (`StepKind.words`); stored details parse back."""

from __future__ import annotations

from typing import Any

from engine.journeys.steps import KINDS
from engine.journeys.steps.base import Failed, Said, quoted
from engine.references import References


def describe(item: dict[str, Any], refs: References) -> str:
    """One trace or history item in words, e.g. "Decide 'Pick offer': chose 'Summer sale' (score 0.42) of 3
    eligible"."""
    kind_name = item.get("type", "")
    kind = KINDS.get(kind_name)
    detail = item.get("detail") or {}
    outcome = item.get("outcome")
    name = quoted(item.get("name") or item.get("stepId", ""))
    label = f"{kind.name if kind else kind_name.title() or 'Step'} {name}"
    if outcome == "failed":
        return f"{label} failed: {Failed.from_json(detail).error}"
    if kind is None:
        return f"{label}: {outcome}"
    return kind.words(kind.detail.from_json(detail), Said(label, name, outcome, refs))


def lines(item: dict[str, Any]) -> list[str]:
    """The lines a step type shows under an item's sentence (a branch: one per condition checked)."""
    kind = KINDS.get(item.get("type", ""))
    if kind is None or item.get("outcome") == "failed":
        return []
    return kind.lines(kind.detail.from_json(item.get("detail") or {}))
