"""exit: end the journey now, with the configured reason."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.journeys.steps.base import Detail, Output, Run, Said, StepKind, StepResult
from models.journey import ExitStep


@dataclass(slots=True)
class ExitDetail(Detail):
    reason: str | None

    def to_json(self) -> dict[str, Any]:
        return {"reason": self.reason}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExitDetail:
        return cls(data.get("reason"))


class Exit(StepKind):
    type = "exit"
    name = "Exit"
    schema = ExitStep
    detail = ExitDetail
    follows_next = False

    def outputs(self, config: Mapping[str, Any], following: str | None) -> list[Output]:
        return []

    def execute(self, step: ExitStep, run: Run) -> StepResult:
        reason = step.config.reason or "exited"
        return StepResult("exited", None, ExitDetail(reason), exit_reason=reason)

    def words(self, detail: ExitDetail, said: Said) -> str:
        return f"Reached Exit {said.name} (reason: {detail.reason})"


KIND = Exit()
