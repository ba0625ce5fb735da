"""branch: the first condition that is true wins; none → the default step; none and no default → completed."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from engine.expressions import Scope, fields, is_true, names, project, syntax_error
from engine.journeys.steps.base import (
    Checks,
    Detail,
    Output,
    Run,
    Said,
    StepKind,
    StepResult,
    each,
    quoted,
)
from models.journey import BranchStep

# What a condition may read and still share a prepared scope: the same for every enrollment of a customer
# in one batch (the batch's unit of work holds the scopes; an update step's new view is a new key).
_SHARED = frozenset({"customer", "now", "journey"})
# Variables a test run does not show the values of (the same for every condition of a run).
UNSHOWN_NAMES = frozenset({"now", "journey"})


@dataclass(slots=True)
class Checked:
    """One condition as evaluated; a test run adds its `expression` and the `values` it read."""

    label: str
    value: bool
    error: str | None = None
    expression: str | None = None
    values: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        # The expression itself is in the journey version the history row names: only a test run shows it.
        data: dict[str, Any] = {"label": self.label, "value": self.value}
        if self.error:
            data["error"] = self.error
        if self.expression is not None:
            data["expression"] = self.expression
        if self.values is not None:
            data["values"] = self.values
        return data


@dataclass(slots=True)
class BranchDetail(Detail):
    conditions: list[Checked] = field(default_factory=list)
    matched: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"conditions": [checked.to_json() for checked in self.conditions], "matched": self.matched}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BranchDetail:
        checked = [Checked(str(item.get("label", "")), bool(item.get("value")), item.get("error"),
                           item.get("expression"), item.get("values"))
                   for item in each(data.get("conditions"))]
        return cls(checked, data.get("matched"))


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


class Branch(StepKind):
    type = "branch"
    name = "Branch"
    schema = BranchStep
    detail = BranchDetail
    follows_next = False

    def outputs(self, config: Mapping[str, Any], following: str | None) -> list[Output]:
        handles = [
            Output(f"cond:{index}", condition.get("label") or f"condition {index + 1}",
                   condition.get("targetStepId"))
            for index, condition in enumerate(config.get("conditions") or [])
        ]
        return [*handles, Output("default", "default", config.get("defaultStepId"))]

    def wire_config(self, step: BranchStep) -> dict[str, Any]:
        return step.config.model_dump(by_alias=True)

    def may_end(self, step: BranchStep) -> bool:
        return not step.config.default_step_id

    def check(self, step: BranchStep, checks: Checks) -> None:
        config = step.config
        if not config.conditions:
            checks.error("missing_config", "branch has no conditions", step.id)
        for index, condition in enumerate(config.conditions, start=1):
            name = f"condition {index}" + (f" ({condition.label})" if condition.label else "")
            if not condition.expression.strip():
                checks.error("missing_config", f"{name} has no expression", step.id)
            else:
                reason = syntax_error(condition.expression, checks.limits)
                if reason:
                    checks.error("invalid_expression", f"{name}: {reason}", step.id)
            if not condition.target_step_id:
                checks.error("missing_config", f"{name} has no target step", step.id)
        if not config.default_step_id:
            checks.warning("branch_without_default",
                           "no default step: when no condition holds the journey ends", step.id)

    def execute(self, step: BranchStep, run: Run) -> StepResult:
        checked: list[Checked] = []
        for index, condition in enumerate(step.config.conditions):
            label = condition.label or f"condition {index + 1}"
            value, error = is_true(run.engine, condition.expression, _variables(condition.expression, run))
            # A condition failing at run time counts as false; the reason stays in the history.
            checked.append(Checked(label, value, error or None))
            if value:
                return StepResult(label, condition.target_step_id, BranchDetail(checked, label))
        default = step.config.default_step_id
        return StepResult("default" if default else "no_match", default, BranchDetail(checked, None))

    def explain(self, step: BranchStep, detail: BranchDetail, run: Run,
                seen: Mapping[str, dict[str, Any]]) -> BranchDetail:
        shown = [
            replace(checked, expression=condition.expression, values=_read(condition.expression, seen))
            for checked, condition in zip(detail.conditions, step.config.conditions, strict=False)
        ]
        return BranchDetail(shown, detail.matched)

    def words(self, detail: BranchDetail, said: Said) -> str:
        if detail.matched:
            return f"{said.label} → {quoted(detail.matched)}"
        return f"{said.label}: no condition held → default" if said.outcome == "default" else \
            f"{said.label}: no condition held and no default"

    def lines(self, detail: BranchDetail) -> list[str]:
        """One line per condition checked: held or not, its expression and the values it read."""
        lines = []
        for checked in detail.conditions:
            read = (checked.values or {}).items()
            values = ", ".join(f"{path} = {value_text(value)}" for path, value in read)
            line = f"{'✓' if checked.value else '✗'} {quoted(checked.label)}: {checked.expression or ''}"
            line += f" with {values}" if values else ""
            if checked.error:
                line += f" (counts as false: {checked.error})"
            lines.append(line)
        return lines


def _variables(expression: str, run: Run) -> dict[str, Any] | Scope:
    """The condition's variables: a scope converted once per customer and batch when it reads only the
    customer (just the fields it reads), `now` and `journey`; otherwise the plain variables."""
    read = names(expression)
    if not read <= _SHARED:
        return run.variables(expression)
    wanted = fields(expression, "customer") if "customer" in read else frozenset()
    view = run.customer() if "customer" in read else None
    key = (run.customer_id, run.journey.get("id"), run.journey.get("version"), run.now, read, wanted)
    scopes: dict[Any, tuple[Any, Scope]] = run.uow.loaded.scopes
    cached = scopes.get(key)
    if cached is not None and cached[0] is view:
        return cached[1]
    variables = run.variables(expression)
    if view is not None:
        variables["customer"] = project(view, wanted)
    scope = scopes[key] = (view, Scope(variables))
    return scope[1]


def _read(expression: str, seen: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """What a condition read, by path (`customer.age` -> 23; a missing field -> None), as it was evaluated."""
    variables = seen.get(expression)
    if variables is None:
        return {}
    values: dict[str, Any] = {}
    for name in sorted(names(expression) - UNSHOWN_NAMES):
        if name not in variables:
            continue
        value = variables[name]
        wanted = fields(expression, name) if isinstance(value, dict) else None
        if wanted:
            values.update({f"{name}.{key}": value.get(key) for key in sorted(wanted)})
        elif not isinstance(value, dict | list):
            values[name] = value
    return values


KIND = Branch()
