"""update: change the customer's attributes, static segments and flags in the step's transaction."""

from __future__ import annotations

from engine.audience import customers
from engine.runtime.steps.base import Run, StepResult
from models.journey import UpdateStep

WRITES_DB = True


def execute(step: UpdateStep, run: Run) -> StepResult:
    operations = step.config.operations
    # Segment joins announced here may enroll the customer in other journeys (same transaction).
    view = customers.apply_operations(run.session, run.customer_id, operations, run.now)
    run.replace_customer(view)
    detail = {
        "operations": [operation.model_dump(by_alias=True, exclude_none=True) for operation in operations]
    }
    return StepResult("updated", step.next, detail)
