"""split: a random A/B split, deterministic per enrollment (an enrollment always takes the same path)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.journeys.steps.base import Checks, Detail, Output, Run, Said, StepKind, StepResult, quoted
from models.journey import SplitStep


@dataclass(slots=True)
class SplitDetail(Detail):
    path: str | None  # the label taken; None when the split has no paths
    roll: float | None

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "roll": self.roll}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SplitDetail:
        return cls(data.get("path"), data.get("roll"))


def roll(enrollment_id: str, step_id: str) -> float:
    """A uniform number in [0, 100) fixed by the enrollment and the step."""
    digest = hashlib.blake2b(f"{enrollment_id}:{step_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 * 100


class Split(StepKind):
    type = "split"
    name = "Split"
    schema = SplitStep
    detail = SplitDetail
    follows_next = False

    def outputs(self, config: Mapping[str, Any], following: str | None) -> list[Output]:
        return [
            Output(f"path:{index}", path.get("label") or f"path {index + 1}", path.get("targetStepId"))
            for index, path in enumerate(config.get("paths") or [])
        ]

    def wire_config(self, step: SplitStep) -> dict[str, Any]:
        return step.config.model_dump(by_alias=True)

    def check(self, step: SplitStep, checks: Checks) -> None:
        paths = step.config.paths
        if not paths:
            checks.error("missing_config", "split has no paths", step.id)
            return
        for index, path in enumerate(paths, start=1):
            if not path.target_step_id:
                checks.error("missing_config", f"path {index} has no target step", step.id)
        total = sum(path.percent for path in paths)
        if abs(total - 100) > 1e-6:
            checks.error("invalid_config", f"split percentages add up to {total:g}, not 100", step.id)

    def execute(self, step: SplitStep, run: Run) -> StepResult:
        value = roll(run.enrollment_id, step.id)
        upper = 0.0
        paths = step.config.paths
        for index, path in enumerate(paths):
            upper += path.percent
            if value < upper or index == len(paths) - 1:
                label = path.label or f"path {index + 1}"
                return StepResult(label, path.target_step_id, SplitDetail(label, round(value, 3)))
        return StepResult("no_path", step.next, SplitDetail(None, round(value, 3)))

    def words(self, detail: SplitDetail, said: Said) -> str:
        return f"{said.label} → path {quoted(detail.path or '')}"


KIND = Split()
