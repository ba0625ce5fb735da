"""What the customer page reads about one customer, in names a person reads: their journeys (with the step
they are at), deliveries (channel and offer names), and a timeline that merges their events with what
happened to them in journeys, newest first. Every read is paged or limited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.delivery import deliveries as outbox
from engine.engine import Engine
from engine.journeys.names import journey_name, journeys_named, step_name, step_names
from engine.monitoring.delivery_names import name_deliveries
from engine.records import fetch
from engine.runtime import enrollments
from models.audience import Customer, Event
from models.common import iso
from models.enrollment import Enrollment, EnrollmentHistory

TIMELINE_LIMIT = 50


# Timeline entries at the same moment, oldest first: the event that enrolled, the entry, the steps run.
_RANK = {"event": 0, "entered": 1, "step": 2}


def customer_journeys(engine: Engine, customer_id: str, limit: int = 20, offset: int = 0) -> dict[str, Any]:
    """The customer's enrollments, newest first, each with `journeyName`, `journeyStatus` and `stepName`."""
    _require_customer(engine, customer_id)
    page = enrollments.list_enrollments(engine, customer_id=customer_id, limit=limit, offset=offset)
    with engine.db.reader() as s:
        journeys = journeys_named(s, {item["journeyId"] for item in page["data"]})
        names = step_names(s, journeys)
    page["data"] = [
        {**item, "journeyName": journey_name(journeys, item["journeyId"]),
         "journeyStatus": journeys[item["journeyId"]].status if item["journeyId"] in journeys else None,
         "stepName": step_name(names, item["journeyId"], item["stepId"])}
        for item in page["data"]
    ]
    return page


def customer_deliveries(engine: Engine, customer_id: str, limit: int = 20, offset: int = 0) -> dict[str, Any]:
    """The customer's deliveries, newest first, each with `channelName`, `offerName` (None for a message
    written in the step), `journeyName` and `stepName`."""
    _require_customer(engine, customer_id)
    page = outbox.list_deliveries(engine, customer_id=customer_id, limit=limit, offset=offset)
    with engine.db.reader() as s:
        page["data"] = name_deliveries(s, page["data"])
    return page


def customer_timeline(engine: Engine, customer_id: str, limit: int = TIMELINE_LIMIT) -> dict[str, Any]:
    """The newest `limit` things that happened to the customer, newest first: events (`kind` "event"),
    journey entries ("entered") and steps run or lifecycle changes ("step"); `hasMore` when older ones exist.
    """
    with engine.db.reader() as s:
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
        journeys = journeys_named(s, {row.journey_id for row in entered} | {row.journey_id for row in steps})
        names = step_names(s, journeys)
        items = [(row.occurred_at, _RANK["event"], {
            "kind": "event", "at": iso(row.occurred_at), "eventType": row.type,
            "properties": row.properties or {}}) for row in events]
        items += [(row.entered_at, _RANK["entered"], {
            "kind": "entered", "at": iso(row.entered_at), "enrollmentId": row.id, "journeyId": row.journey_id,
            "journeyName": journey_name(journeys, row.journey_id),
            "stepName": step_name(names, row.journey_id, row.step_id) if row.status == "active" else None,
            "status": row.status}) for row in entered]
        items += [(row.at, _RANK["step"], {
            "kind": "step", "at": iso(row.at), "enrollmentId": row.enrollment_id, "journeyId": row.journey_id,
            "journeyName": journey_name(journeys, row.journey_id), "stepType": row.type,
            "stepName": step_name(names, row.journey_id, row.step_id), "outcome": row.outcome,
            "nextStepName": step_name(names, row.journey_id, row.next_step_id) if row.next_step_id else None,
            "detail": row.detail or {}}) for row in steps]
    items.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return {"data": [item for _at, _rank, item in items[:limit]], "hasMore": len(items) > limit}


def _require_customer(engine: Engine, customer_id: str) -> None:
    with engine.db.reader() as s:
        fetch(s, Customer, customer_id, "customer")
