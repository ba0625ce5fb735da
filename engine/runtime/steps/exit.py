"""exit: end the journey now, with the configured reason."""

from __future__ import annotations

from engine.runtime.steps.base import Run, StepResult
from models.journey import ExitStep

WRITES_DB = False


def execute(step: ExitStep, run: Run) -> StepResult:
    reason = step.config.reason or "exited"
    return StepResult("exited", None, {"reason": reason}, exit_reason=reason)
