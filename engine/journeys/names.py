"""Names a person reads for journeys, their steps and catalogue rows, looked up for many ids at once."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlmodel import Session

from models.journey import Journey, JourneyVersion


class JourneyNames(NamedTuple):
    """What naming a journey and its steps needs."""

    name: str
    status: str
    steps: list[dict[str, Any]]


def journeys_named(s: Session, ids: Iterable[str]) -> dict[str, JourneyNames]:
    """The journeys among `ids` with their name, status and current steps."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = s.execute(select(Journey.id, Journey.name, Journey.status, Journey.steps)
                     .where(Journey.id.in_(wanted))).all()  # type: ignore[attr-defined]
    return {row[0]: JourneyNames(row[1], row[2], row[3] or []) for row in rows}


def step_names(s: Session, journeys: dict[str, JourneyNames]) -> dict[str, dict[str, str]]:
    """Per journey, step id -> the step's name (its id when unnamed), from every version the journey had
    (the current one wins), so steps of older versions that enrollments went through are named too."""
    names: dict[str, dict[str, str]] = {journey_id: {} for journey_id in journeys}
    if journeys:
        versions = s.execute(
            select(JourneyVersion.journey_id, JourneyVersion.definition)
            .where(JourneyVersion.journey_id.in_(list(journeys)))  # type: ignore[attr-defined]
            .order_by(JourneyVersion.journey_id, JourneyVersion.version)
        ).all()
        for journey_id, definition in versions:
            names[journey_id].update(_named(definition.get("steps") or []))
    for journey_id, journey in journeys.items():
        names[journey_id].update(_named(journey.steps))
    return names


def journey_name(journeys: dict[str, JourneyNames], journey_id: str) -> str:
    """The journey's name, or its id when it is gone."""
    journey = journeys.get(journey_id)
    return journey.name if journey is not None else journey_id


def step_name(names: dict[str, dict[str, str]], journey_id: str, step_id: str | None) -> str | None:
    """The step's name from `step_names`, its id when unknown, None for no step."""
    if step_id is None:
        return None
    return names.get(journey_id, {}).get(step_id, step_id)


def row_names(s: Session, table: Any, ids: Iterable[str]) -> dict[str, str]:
    """id -> name for the rows of `table` (a catalogue table with `id` and `name`) among `ids`."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return dict(s.execute(select(table.id, table.name).where(table.id.in_(wanted))).all())


def _named(steps: Iterable[dict[str, Any]]) -> dict[str, str]:
    return {step["id"]: step.get("name") or step["id"] for step in steps if "id" in step}
