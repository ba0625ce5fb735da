"""update: change the customer's attributes, static segments and flags in the step's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.audience import customers
from engine.journeys.steps.base import Checks, Detail, Run, Said, StepKind, StepResult, each, name_of
from engine.references import References
from models.journey import UpdateStep

ATTRIBUTE_OPS = ("set", "increment", "unset")
SEGMENT_OPS = ("addSegment", "removeSegment")
WORDS = {  # update operation -> how a sentence words it
    "set": "set",
    "increment": "add to",
    "unset": "clear",
    "addSegment": "add to",
    "removeSegment": "remove from",
    "setFlag": "flag",
}


@dataclass(slots=True)
class UpdateDetail(Detail):
    operations: list[dict[str, Any]] = field(default_factory=list)  # in wire form

    def to_json(self) -> dict[str, Any]:
        return {"operations": self.operations}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UpdateDetail:
        return cls([dict(operation) for operation in each(data.get("operations"))])


def operation_words(operation: Mapping[str, Any], refs: References) -> str:
    """One update operation in words, e.g. "add to Under 30", "set vip"."""
    op = operation.get("op", "")
    if op in SEGMENT_OPS:
        segment = operation.get("segmentId")
        what = name_of(refs.segments, segment) if segment else "a segment"
    else:
        what = operation.get("attribute") or operation.get("flag") or ""
    return f"{WORDS.get(op, op)} {what}".strip()


class Update(StepKind):
    type = "update"
    name = "Update"
    schema = UpdateStep
    detail = UpdateDetail
    writes_db = True

    def check(self, step: UpdateStep, checks: Checks) -> None:
        if not step.config.operations:
            checks.error("missing_config", "update has no operations", step.id)
        for index, operation in enumerate(step.config.operations, start=1):
            name = f"operation {index} ({operation.op})"
            if operation.op in ATTRIBUTE_OPS and not operation.attribute:
                checks.error("missing_config", f"{name} has no attribute", step.id)
            if operation.op == "increment" and operation.value is not None and (
                    isinstance(operation.value, bool) or not isinstance(operation.value, int | float)):
                checks.error("invalid_config", f"{name}: the value to add must be a number", step.id)
            if operation.op in SEGMENT_OPS:
                if not operation.segment_id:
                    checks.error("missing_config", f"{name} has no segment", step.id)
                elif operation.segment_id not in checks.refs.segments:
                    checks.error("unknown_reference", f"segment '{operation.segment_id}' does not exist",
                                 step.id)
            if operation.op == "setFlag" and not operation.flag:
                checks.error("missing_config", f"{name} has no flag", step.id)

    def execute(self, step: UpdateStep, run: Run) -> StepResult:
        operations = step.config.operations
        # Segment joins announced here may enroll the customer in other journeys (same transaction).
        view = customers.apply_operations(run.uow, run.customer_id, operations, run.now)
        run.replace_customer(view)
        detail = UpdateDetail(
            [operation.model_dump(by_alias=True, exclude_none=True) for operation in operations])
        return StepResult("updated", step.next, detail)

    def words(self, detail: UpdateDetail, said: Said) -> str:
        changes = ", ".join(operation_words(operation, said.refs) for operation in detail.operations)
        return f"{said.label}: {changes or 'no changes'}"


KIND = Update()
