"""The parsed journey the runner and the simulator walk (`Plan`), parsed once per journey version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.journeys.graph import first_step_id
from models.journey import EntryConditions, JourneyDefinition, StepBase


@dataclass(frozen=True)
class Plan:
    """A parsed journey definition: steps by id and the entry step."""

    journey_id: str
    version: int
    max_duration: int
    entry: EntryConditions
    steps: dict[str, StepBase]
    first: str | None


def plan_from(journey_id: str, version: int, document: dict[str, Any]) -> Plan:
    """Parse a stored (camelCase) definition; raises pydantic's ValidationError on a malformed one."""
    definition = JourneyDefinition.model_validate(document)
    steps = {step.id: step for step in definition.steps}
    first = first_step_id(definition.steps)
    return Plan(journey_id, version, definition.max_duration, definition.entry_conditions, steps, first)


_plans: dict[tuple[str, int, Any], Plan] = {}


def plan_of(journey: Any) -> Plan:
    """The plan of a Journey row, parsed once per (id, version, updated_at): any edit changes the key."""
    key = (journey.id, journey.version, journey.updated_at)
    plan = _plans.get(key)
    if plan is None:
        document = {
            "maxDuration": journey.max_duration,
            "entryConditions": journey.entry_conditions,
            "steps": journey.steps,
        }
        plan = plan_from(journey.id, journey.version, document)
        if len(_plans) > 1000:
            _plans.clear()
        _plans[key] = plan
    return plan
