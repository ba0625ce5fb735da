"""wait: park the enrollment until now + duration, or until an `untilEvent` event arrives first."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from engine.journeys.steps.base import Checks, Detail, Run, Said, StepKind, StepResult
from models.journey import WaitStep

UNITS = {"minutes": timedelta(minutes=1), "hours": timedelta(hours=1), "days": timedelta(days=1)}
DAYS_PER_UNIT = {unit: length / timedelta(days=1) for unit, length in UNITS.items()}


@dataclass(slots=True)
class WaitDetail(Detail):
    duration: int | None
    unit: str
    until: str | None  # ISO time with Z, None without a deadline
    until_event: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"duration": self.duration, "unit": self.unit, "until": self.until}
        if self.until_event:
            data["untilEvent"] = self.until_event
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WaitDetail:
        return cls(data.get("duration"), data.get("unit") or "days", data.get("until"),
                   data.get("untilEvent"))


def duration_words(duration: int | None, unit: str) -> str:
    """e.g. "1 day", "3 hours" ("" without a duration)."""
    return f"{duration} {unit[:-1] if duration == 1 else unit}" if duration else ""


class Wait(StepKind):
    type = "wait"
    name = "Wait"
    schema = WaitStep
    detail = WaitDetail

    def wait_days(self, step: WaitStep) -> float:
        return step.config.duration * DAYS_PER_UNIT[step.config.unit] if step.config.duration else 0.0

    def pauses(self, step: WaitStep) -> bool:
        return True

    def check(self, step: WaitStep, checks: Checks) -> None:
        if step.config.duration is None:
            checks.error("missing_config", "wait has no duration", step.id)

    def execute(self, step: WaitStep, run: Run) -> StepResult:
        config = step.config
        until = run.now + config.duration * UNITS[config.unit] if config.duration else None
        detail = WaitDetail(config.duration, config.unit, until.isoformat() + "Z" if until else None,
                            config.until_event)
        return StepResult(
            "waiting", step.next, detail, waits=True, wait_until=until, wait_event=config.until_event
        )

    def words(self, detail: WaitDetail, said: Said) -> str:
        text = f"Wait {duration_words(detail.duration, detail.unit)}".rstrip()
        return f"{text} or until event {detail.until_event}" if detail.until_event else text


KIND = Wait()
