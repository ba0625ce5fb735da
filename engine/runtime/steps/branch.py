"""branch: the first condition that is true wins; none → the default step; none and no default → completed."""

from __future__ import annotations

from typing import Any

from engine.expressions import is_true
from engine.runtime.steps.base import Run, StepResult
from models.journey import BranchStep

TOUCHES_DB = False


def execute(step: BranchStep, run: Run) -> StepResult:
    checked: list[dict[str, Any]] = []
    for index, condition in enumerate(step.config.conditions):
        label = condition.label or f"condition {index + 1}"
        value, error = is_true(condition.expression, run.variables(condition.expression))
        # The expression itself is in the journey version the history row names.
        item: dict[str, Any] = {"label": label, "value": value}
        if error:
            # A condition failing at run time counts as false; the reason stays in the history.
            item["error"] = error
        checked.append(item)
        if value:
            return StepResult(label, condition.target_step_id, {"conditions": checked, "matched": label})
    default = step.config.default_step_id
    return StepResult("default" if default else "no_match", default, {"conditions": checked, "matched": None})
