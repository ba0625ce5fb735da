"""What the customer page reads about one customer, in names a person reads: their journeys (with the step
they are at), deliveries (channel and offer names), and a timeline that merges their events with what
happened to them in journeys, newest first. Every read is paged or limited.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlmodel import Session

from engine.core import core
from engine.delivery import deliveries as outbox
from engine.records import fetch
from engine.runtime import enrollments
from models.audience import Customer, Event
from models.channels import Channel
from models.common import iso
from models.enrollment import Enrollment, EnrollmentHistory
from models.journey import Journey, JourneyVersion
from models.offers import Offer

TIMELINE_LIMIT = 50


class JourneyNames(NamedTuple):
    """What naming a journey and its steps needs."""

    name: str
    status: str
    steps: list[dict[str, Any]]

# Timeline entries at the same moment, oldest first: the event that enrolled, the entry, the steps run.
_RANK = {"event": 0, "entered": 1, "step": 2}


def customer_journeys(customer_id: str, limit: int = 20, offset: int = 0) -> dict[str, Any]:
    """The customer's enrollments, newest first, each with `journeyName`, `journeyStatus` and `stepName`."""
    _require_customer(customer_id)
    page = enrollments.list_enrollments(customer_id=customer_id, limit=limit, offset=offset)
    with core().db.reader() as s:
        journeys = _journeys(s, {item["journeyId"] for item in page["data"]})
        names = step_names(s, journeys)
    page["data"] = [
        {**item, "journeyName": _journey_name(journeys, item["journeyId"]),
         "journeyStatus": journeys[item["journeyId"]].status if item["journeyId"] in journeys else None,
         "stepName": _name(names, item["journeyId"], item["stepId"])}
        for item in page["data"]
    ]
    return page


def customer_deliveries(customer_id: str, limit: int = 20, offset: int = 0) -> dict[str, Any]:
    """The customer's deliveries, newest first, each with `channelName`, `offerName` (None for a message
    written in the step), `journeyName` and `stepName`."""
    _require_customer(customer_id)
    page = outbox.list_deliveries(customer_id=customer_id, limit=limit, offset=offset)
    items = page["data"]
    with core().db.reader() as s:
        channels = _names(s, Channel, {item["channelId"] for item in items})
        offers = _names(s, Offer, {item["offerId"] for item in items if item["offerId"]})
        journeys = _journeys(s, {item["journeyId"] for item in items if item["journeyId"]})
        names = step_names(s, journeys)
    page["data"] = [
        {**item, "channelName": channels.get(item["channelId"], item["channelId"]),
         "offerName": offers.get(item["offerId"], item["offerId"]) if item["offerId"] else None,
         "journeyName": _journey_name(journeys, item["journeyId"]) if item["journeyId"] else None,
         "stepName": _name(names, item["journeyId"], item["stepId"]) if item["journeyId"] else None}
        for item in items
    ]
    return page


def customer_timeline(customer_id: str, limit: int = TIMELINE_LIMIT) -> dict[str, Any]:
    """The newest `limit` things that happened to the customer, newest first: events (`kind` "event"),
    journey entries ("entered") and steps run or lifecycle changes ("step"); `hasMore` when older ones exist.
    """
    with core().db.reader() as s:
        fetch(s, Customer, customer_id, "customer")
        mine = select(Enrollment.id).where(Enrollment.customer_id == customer_id).scalar_subquery()
        events = s.execute(
            select(Event).where(Event.customer_id == customer_id)
            .order_by(Event.occurred_at.desc(), Event.id.desc()).limit(limit + 1)  # type: ignore[attr-defined]
        ).scalars().all()
        entered = s.execute(
            select(Enrollment).where(Enrollment.customer_id == customer_id)
            .order_by(Enrollment.entered_at.desc(), Enrollment.id.desc()).limit(limit + 1)  # type: ignore[attr-defined]
        ).scalars().all()
        steps = s.execute(
            select(EnrollmentHistory).where(EnrollmentHistory.enrollment_id.in_(mine))  # type: ignore[attr-defined]
            .order_by(EnrollmentHistory.at.desc(), EnrollmentHistory.id.desc()).limit(limit + 1)  # type: ignore[union-attr]
        ).scalars().all()
        journeys = _journeys(s, {row.journey_id for row in entered} | {row.journey_id for row in steps})
        names = step_names(s, journeys)
        items = [(row.occurred_at, _RANK["event"], {
            "kind": "event", "at": iso(row.occurred_at), "eventType": row.type,
            "properties": row.properties or {}}) for row in events]
        items += [(row.entered_at, _RANK["entered"], {
            "kind": "entered", "at": iso(row.entered_at), "enrollmentId": row.id, "journeyId": row.journey_id,
            "journeyName": _journey_name(journeys, row.journey_id),
            "stepName": _name(names, row.journey_id, row.step_id) if row.status == "active" else None,
            "status": row.status}) for row in entered]
        items += [(row.at, _RANK["step"], {
            "kind": "step", "at": iso(row.at), "enrollmentId": row.enrollment_id, "journeyId": row.journey_id,
            "journeyName": _journey_name(journeys, row.journey_id), "stepType": row.type,
            "stepName": _name(names, row.journey_id, row.step_id), "outcome": row.outcome,
            "nextStepName": _name(names, row.journey_id, row.next_step_id) if row.next_step_id else None,
            "detail": row.detail or {}}) for row in steps]
    items.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return {"data": [item for _at, _rank, item in items[:limit]], "hasMore": len(items) > limit}


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
        names[journey_id].update(_named(journey.steps or []))
    return names


def _named(steps: Iterable[dict[str, Any]]) -> dict[str, str]:
    return {step["id"]: step.get("name") or step["id"] for step in steps if "id" in step}


def _name(names: dict[str, dict[str, str]], journey_id: str, step_id: str | None) -> str | None:
    if step_id is None:
        return None
    return names.get(journey_id, {}).get(step_id, step_id)


def _journey_name(journeys: dict[str, JourneyNames], journey_id: str) -> str:
    journey = journeys.get(journey_id)
    return journey.name if journey is not None else journey_id


def _journeys(s: Session, ids: set[str]) -> dict[str, JourneyNames]:
    if not ids:
        return {}
    rows = s.execute(select(Journey.id, Journey.name, Journey.status, Journey.steps)
                     .where(Journey.id.in_(sorted(ids)))).all()  # type: ignore[attr-defined]
    return {row[0]: JourneyNames(*row[1:]) for row in rows}


def _names(s: Session, table: Any, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    return dict(s.execute(select(table.id, table.name).where(table.id.in_(sorted(ids)))).all())


def _require_customer(customer_id: str) -> None:
    with core().db.reader() as s:
        fetch(s, Customer, customer_id, "customer")
