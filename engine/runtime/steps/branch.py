"""branch: the first condition that is true wins; none → the default step; none and no default → completed."""

from __future__ import annotations

from typing import Any

from engine.expressions import Scope, fields, is_true, names, project
from engine.runtime.steps.base import Run, StepResult
from models.journey import BranchStep

WRITES_DB = False
# What a condition may read and still share a prepared scope: the same for every enrollment of a customer
# in one batch (the batch's session.info holds the scopes; an update step's new view is a new key).
_SHARED = frozenset({"customer", "now", "journey"})
_SCOPES = "branch.scopes"


def execute(step: BranchStep, run: Run) -> StepResult:
    checked: list[dict[str, Any]] = []
    for index, condition in enumerate(step.config.conditions):
        label = condition.label or f"condition {index + 1}"
        value, error = is_true(condition.expression, _variables(condition.expression, run))
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


def _variables(expression: str, run: Run) -> dict[str, Any] | Scope:
    """The condition's variables: a scope converted once per customer and batch when it reads only the
    customer (just the fields it reads), `now` and `journey`; otherwise the plain variables."""
    read = names(expression)
    if not read <= _SHARED:
        return run.variables(expression)
    wanted = fields(expression, "customer") if "customer" in read else frozenset()
    view = run.customer() if "customer" in read else None
    key = (run.customer_id, run.journey.get("id"), run.journey.get("version"), run.now, read, wanted)
    scopes: dict[Any, tuple[Any, Scope]] = run.session.info.setdefault(_SCOPES, {})
    cached = scopes.get(key)
    if cached is not None and cached[0] is view:
        return cached[1]
    variables = run.variables(expression)
    if view is not None:
        variables["customer"] = project(view, wanted)
    scope = scopes[key] = (view, Scope(variables))
    return scope[1]
