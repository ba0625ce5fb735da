"""The step-type registry: one module per type in this package (`<type>.py`, holding a `KIND`), found by
the types the journey schema knows (`models.journey.STEP_TYPES`), in palette order. Validation, the graph
helpers, the runner, the simulator and the words all look a type up here."""

from __future__ import annotations

from importlib import import_module

from engine.journeys.steps.base import StepKind
from models.journey import STEP_TYPES

KINDS: dict[str, StepKind] = {kind: import_module(f"{__name__}.{kind}").KIND for kind in STEP_TYPES}
