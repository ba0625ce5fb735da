"""wait: park the enrollment until now + duration, or until an `untilEvent` event arrives first."""

from __future__ import annotations

from datetime import timedelta

from engine.runtime.steps.base import Run, StepResult
from models.journey import WaitStep

UNITS = {"minutes": timedelta(minutes=1), "hours": timedelta(hours=1), "days": timedelta(days=1)}

WRITES_DB = False


def execute(step: WaitStep, run: Run) -> StepResult:
    config = step.config
    until = run.now + config.duration * UNITS[config.unit] if config.duration else None
    detail = {
        "duration": config.duration,
        "unit": config.unit,
        "until": until.isoformat() + "Z" if until else None,
    }
    if config.until_event:
        detail["untilEvent"] = config.until_event
    return StepResult(
        "waiting", step.next, detail, waits=True, wait_until=until, wait_event=config.until_event
    )
