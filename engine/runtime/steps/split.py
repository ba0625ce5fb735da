"""split: a random A/B split, deterministic per enrollment (an enrollment always takes the same path)."""

from __future__ import annotations

import hashlib

from engine.runtime.steps.base import Run, StepResult
from models.journey import SplitStep

WRITES_DB = False


def roll(enrollment_id: str, step_id: str) -> float:
    """A uniform number in [0, 100) fixed by the enrollment and the step."""
    digest = hashlib.blake2b(f"{enrollment_id}:{step_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 * 100


def execute(step: SplitStep, run: Run) -> StepResult:
    value = roll(run.enrollment_id, step.id)
    upper = 0.0
    paths = step.config.paths
    for index, path in enumerate(paths):
        upper += path.percent
        if value < upper or index == len(paths) - 1:
            label = path.label or f"path {index + 1}"
            return StepResult(label, path.target_step_id, {"path": label, "roll": round(value, 3)})
    return StepResult("no_path", step.next, {"path": None, "roll": round(value, 3)})
