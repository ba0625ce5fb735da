"""How the engine is doing: throughput, due backlog and wake-up lag, dispatcher queue, errors, activity.

Database figures are indexed range reads (the due index, the delivery due index, counter primary keys);
throughput and the activity stream come from the live bus's recent deltas, so nothing here scans history.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from engine.engine import Engine
from engine.runtime import heartbeat
from models.channels import Delivery
from models.common import iso
from models.enrollment import Enrollment, EnrollmentHistory, JourneyCounter, StepCounter
from models.journey import Journey

THROUGHPUT_WINDOW = timedelta(seconds=60)
RECENT_LIMIT = 50
RECENT_STEPS = 20
# Counting stops here: past it a figure reads "10,000+" and the read stays a short index range.
COUNT_CAP = 10_000


def engine_status(engine: Engine) -> dict[str, Any]:
    """The engine overview (the API's /engine/status answers exactly this)."""
    at = engine.now()
    with engine.db.reader() as s:
        return collect(s, at, engine.live.recent(RECENT_LIMIT))


def collect(s: Session, at: datetime, recent: list[dict[str, Any]]) -> dict[str, Any]:
    """Status at `at`, given the live bus's recent deltas (newest first)."""
    window = _window(recent, at)
    backlog = _backlog(s, at)
    transitions = sum(delta.get("transitions", 0) for delta in window)
    failed, failed_capped = _capped(s, select(Enrollment.status).where(Enrollment.status == "failed"))
    return {
        "at": iso(at),
        "throughput": {
            "windowSeconds": int(THROUGHPUT_WINDOW.total_seconds()),
            "transitions": transitions,
            "stepsPerSecond": round(transitions / THROUGHPUT_WINDOW.total_seconds(), 2),
            "batches": len(window),
        },
        "backlog": backlog,
        "dispatcher": _dispatcher(s, at),
        "errors": {
            "failedEnrollments": failed,
            "failedEnrollmentsCapped": failed_capped,
            "recentBatchErrors": sum(delta.get("errors", 0) for delta in window),
        },
        "journeys": _journeys(s, backlog["byJourney"], recent),
        "recent": recent,
        "recentSteps": _recent_steps(s),
        # The processes running the engine (web with its scheduler, workers) that beat recently.
        "workers": heartbeat.live(s, at),
    }


def _window(recent: list[dict[str, Any]], at: datetime) -> list[dict[str, Any]]:
    """The batch deltas published within the throughput window before `at`."""
    since = at - THROUGHPUT_WINDOW
    found = []
    for delta in recent:
        if delta.get("kind") != "batch":
            continue
        moment = _parse(delta.get("at"))
        if moment is not None and since <= moment <= at:
            found.append(delta)
    return found


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.removesuffix("Z"))
    except ValueError:
        return None


def _capped(s: Session, statement: Any) -> tuple[int, bool]:
    """Count the rows of `statement` up to COUNT_CAP: (count, whether there are more)."""
    sample = statement.limit(COUNT_CAP + 1).subquery()
    count = int(s.execute(select(func.count()).select_from(sample)).scalar_one())
    return min(count, COUNT_CAP), count > COUNT_CAP


def _backlog(s: Session, at: datetime) -> dict[str, Any]:
    """Due enrollments of active journeys (paused ones wait by design), and how late the oldest is."""
    due = select(Enrollment.journey_id).join(Journey, Journey.id == Enrollment.journey_id).where(
        Enrollment.status == "active", Enrollment.next_run_at <= at, Journey.status == "active")
    oldest = s.execute(
        due.with_only_columns(Enrollment.next_run_at).order_by(Enrollment.next_run_at).limit(1)
    ).scalar_one_or_none()
    sample = due.limit(COUNT_CAP + 1).subquery()
    by_journey = dict(
        s.execute(select(sample.c.journey_id, func.count()).group_by(sample.c.journey_id)).all()
    )
    total = sum(by_journey.values())
    return {
        "due": min(total, COUNT_CAP),
        "dueCapped": total > COUNT_CAP,
        "oldestDueAt": iso(oldest),
        "wakeUpLagSeconds": round((at - oldest).total_seconds(), 3) if oldest else 0.0,
        "byJourney": {journey_id: min(count, COUNT_CAP) for journey_id, count in by_journey.items()},
    }


def _dispatcher(s: Session, at: datetime) -> dict[str, Any]:
    # Selecting only indexed columns keeps each capped count inside the (status, next_attempt_at) index.
    queued = select(Delivery.status).where(Delivery.status == "queued")
    oldest = s.execute(
        queued.with_only_columns(Delivery.next_attempt_at).where(Delivery.next_attempt_at <= at)
        .order_by(Delivery.next_attempt_at).limit(1)
    ).scalar_one_or_none()
    count, capped = _capped(s, queued)
    due, due_capped = _capped(s, queued.where(Delivery.next_attempt_at <= at))
    failed, failed_capped = _capped(s, select(Delivery.status).where(Delivery.status == "failed"))
    return {
        "queued": count, "queuedCapped": capped,
        "due": due, "dueCapped": due_capped,
        "failed": failed, "failedCapped": failed_capped,
        "oldestDueAt": iso(oldest),
        "lagSeconds": round((at - oldest).total_seconds(), 3) if oldest else 0.0,
    }


def _journeys(s: Session, due: dict[str, int], recent: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Active and paused journeys with their live figures and when the engine last touched them."""
    journeys = s.execute(
        select(Journey.id, Journey.name, Journey.status)
        .where(Journey.status.in_(("active", "paused")))
        .order_by(Journey.name)
    ).all()
    ids = [journey_id for journey_id, _name, _status in journeys]
    if not ids:
        return []
    current = dict(
        s.execute(
            select(StepCounter.journey_id, func.sum(StepCounter.current))
            .where(StepCounter.journey_id.in_(ids))
            .group_by(StepCounter.journey_id)
        ).all()
    )
    totals: dict[tuple[str, str], int] = {
        (journey_id, name): value
        for journey_id, name, value in s.execute(
            select(JourneyCounter.journey_id, JourneyCounter.name, JourneyCounter.value).where(
                JourneyCounter.journey_id.in_(ids),
                JourneyCounter.name.in_(("entered", "completed", "exited", "failed")),
            )
        )
    }
    last_seen = _last_activity(recent)
    return [
        {
            "journeyId": journey_id,
            "name": name,
            "status": status,
            "enrolledNow": int(current.get(journey_id) or 0),
            "entered": totals.get((journey_id, "entered"), 0),
            "completed": totals.get((journey_id, "completed"), 0),
            "exited": totals.get((journey_id, "exited"), 0),
            "failed": totals.get((journey_id, "failed"), 0),
            "due": due.get(journey_id, 0),
            "lastActivityAt": last_seen.get(journey_id),
        }
        for journey_id, name, status in journeys
    ]


def _last_activity(recent: list[dict[str, Any]]) -> dict[str, str]:
    """Journey id -> the time of the newest delta that touched it (recent is newest first)."""
    seen: dict[str, str] = {}
    for delta in recent:
        touched = delta.get("journeys") or ([delta["journeyId"]] if delta.get("journeyId") else [])
        for journey_id in touched:
            if delta.get("at"):
                seen.setdefault(journey_id, delta["at"])
    return seen


def _recent_steps(s: Session) -> list[dict[str, Any]]:
    """The latest step executions, newest first (a primary-key range read)."""
    rows = s.execute(
        select(EnrollmentHistory).order_by(EnrollmentHistory.id.desc()).limit(RECENT_STEPS)
    ).scalars()
    return [
        {"at": iso(row.at), "journeyId": row.journey_id, "customerId": row.customer_id,
         "enrollmentId": row.enrollment_id, "stepId": row.step_id, "type": row.type, "outcome": row.outcome}
        for row in rows
    ]
