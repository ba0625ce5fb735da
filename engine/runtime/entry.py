"""Entry into journeys: manual, by segment (all members on activation, then each who joins) and by event,
with the re-entry policy and cooldown enforced on every path."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from engine import signals
from engine.audience import segments
from engine.core import core, session
from engine.core import now as current_time
from engine.errors import Conflict
from engine.expressions import is_true
from engine.ids import new_id
from engine.monitoring import counters, live
from engine.monitoring.counters import ENTRY, Tally
from engine.records import fetch
from engine.runtime.enrollments import exit_where
from engine.runtime.steps.base import plan_of
from models.audience import Customer, Event
from models.enrollment import Enrollment, SegmentBackfill
from models.journey import Journey

E = Enrollment.__table__  # type: ignore[attr-defined]
# Customers enrolled per backfill batch (segment members after activation).
BACKFILL_BATCH = 1000
# Keeps IN (...) lists under every database's parameter limit.
CHUNK = 500


@dataclass
class EntryResult:
    enrollment_ids: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)


def enroll(journey_id: str, customer_ids: list[str]) -> dict[str, Any]:
    """Manual enrollment (API/UI), only while the journey is active; unknown customers are skipped."""
    with session() as s:
        journey = fetch(s, Journey, journey_id, "journey")
        if journey.status != "active":
            raise Conflict(f"journey {journey_id} is {journey.status}: only an active journey enrolls")
        result = enter(s, journey, customer_ids, current_time())
        answer = {
            "journeyId": journey.id,
            "journeyName": journey.name,
            "enrolled": len(result.enrollment_ids),
            "skipped": len(result.skipped),
            "enrollmentIds": result.enrollment_ids,
            "skippedCustomers": result.skipped,
        }
    _announce(journey_id, len(result.enrollment_ids))
    return answer


def enter(
    s: Session, journey: Journey, customer_ids: list[str], now: datetime, event: dict[str, Any] | None = None
) -> EntryResult:
    """Enroll the given customers at the first step, applying the journey's re-entry policy and cooldown."""
    result = EntryResult()
    plan = plan_of(journey)
    if plan.first is None:
        result.skipped = [{"customerId": cid, "reason": "journey_has_no_steps"} for cid in customer_ids]
        return result
    if not core().db.is_sqlite:
        # Entries into one journey take turns, so two at once cannot both pass the re-entry check
        # (SQLite writers are serialised already).
        s.execute(select(Journey.id).where(Journey.id == journey.id).with_for_update())
    unique = list(dict.fromkeys(customer_ids))
    result.skipped += [{"customerId": cid, "reason": "duplicate"} for cid in _duplicates(customer_ids)]
    known = _existing_customers(s, unique)
    result.skipped += [
        {"customerId": cid, "reason": "unknown_customer"} for cid in unique if cid not in known
    ]
    candidates = [cid for cid in unique if cid in known]
    previous = _previous_enrollments(s, journey.id, candidates)
    policy, cooldown = plan.entry.reentry, timedelta(hours=plan.entry.cooldown_hours)
    admitted: list[str] = []
    restart: list[str] = []
    for cid in candidates:
        reason = _refusal(previous.get(cid, []), policy, cooldown, now)
        if reason:
            result.skipped.append({"customerId": cid, "reason": reason})
            continue
        admitted.append(cid)
        if policy == "restart":
            restart += [
                enrollment_id for enrollment_id, status, _ in previous.get(cid, []) if status == "active"
            ]
    if restart:
        exit_where(s, journey.id, "restarted", now, ids=restart)
    if admitted:
        result.enrollment_ids = _insert(s, journey, plan.first, admitted, now, event)
    return result


def _refusal(
    previous: list[tuple[str, str, datetime]], policy: str, cooldown: timedelta, now: datetime
) -> str | None:
    """Why this customer may not enter again now, or None."""
    if not previous:
        return None
    if policy == "never":
        return "already_enrolled"
    if cooldown and max(entered for _, _, entered in previous) > now - cooldown:
        return "cooldown"
    if policy == "skip_if_active" and any(status == "active" for _, status, _ in previous):
        return "already_active"
    return None


def _duplicates(customer_ids: list[str]) -> list[str]:
    seen: set[str] = set()
    repeated = []
    for cid in customer_ids:
        if cid in seen:
            repeated.append(cid)
        seen.add(cid)
    return repeated


def _existing_customers(s: Session, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        found.update(
            s.execute(select(Customer.id).where(Customer.id.in_(ids[start : start + CHUNK]))).scalars()
        )
    return found


def _previous_enrollments(
    s: Session, journey_id: str, ids: list[str]
) -> dict[str, list[tuple[str, str, datetime]]]:
    previous: dict[str, list[tuple[str, str, datetime]]] = defaultdict(list)
    for start in range(0, len(ids), CHUNK):
        rows = s.execute(
            select(E.c.customer_id, E.c.id, E.c.status, E.c.entered_at).where(
                E.c.journey_id == journey_id, E.c.customer_id.in_(ids[start : start + CHUNK])
            )
        ).all()
        for customer_id, enrollment_id, status, entered in rows:
            previous[customer_id].append((enrollment_id, status, entered))
    return previous


def _insert(
    s: Session,
    journey: Journey,
    first: str,
    customer_ids: list[str],
    now: datetime,
    event: dict[str, Any] | None,
) -> list[str]:
    ids = [new_id("enr") for _ in customer_ids]
    context: dict[str, Any] = {"results": {}}
    if event is not None:
        context["event"] = event
    s.execute(
        E.insert(),
        [
            {
                "id": enrollment_id,
                "journey_id": journey.id,
                "version": journey.version,
                "customer_id": cid,
                "step_id": first,
                "status": "active",
                "next_run_at": now,
                "context": context,
                "visits": 0,
                "entered_at": now,
                "updated_at": now,
            }
            for enrollment_id, cid in zip(ids, customer_ids, strict=True)
        ],
    )
    tally = Tally()
    tally.entered(journey.id, now, len(ids))
    tally.at_step(journey.id, first, len(ids))
    tally.edge(journey.id, ENTRY, first, len(ids))
    counters.apply(s, tally)
    return ids


def _announce(journey_id: str, count: int) -> None:
    """After commit: tell the pages and wake the runner."""
    if count:
        live.publish({"kind": "enrolled", "journeyId": journey_id, "count": count})
        signals.work_available.send()


def event_view(event: Event) -> dict[str, Any]:
    """The CEL `event` map (also kept in the enrollment's context)."""
    return {
        "id": event.id,
        "type": event.type,
        "customerId": event.customer_id,
        "properties": dict(event.properties or {}),
        "occurredAt": event.occurred_at.isoformat() + "Z",
    }


def _active_journeys(s: Session) -> list[Journey]:
    return list(s.execute(select(Journey).where(Journey.status == "active")).scalars())


# ---- entry paths driven by signals (they run inside the sender's transaction) ---------------------------


def _on_events(session: Session, events: list[Event], now: datetime, **_: Any) -> None:
    """Event entry: an event whose type and condition match an active journey enrolls its customer."""
    journeys = [j for j in _active_journeys(session) if plan_of(j).entry.event_type]
    if not journeys:
        return
    for journey in journeys:
        entry = plan_of(journey).entry
        matching = [event for event in events if event.type == entry.event_type]
        if not matching:
            continue
        views = (
            segments.customer_views(session, {event.customer_id for event in matching})
            if entry.condition
            else {}
        )
        enrolled = 0
        for event in matching:
            view = event_view(event)
            if entry.condition:
                ok, _reason = is_true(
                    entry.condition, {"event": view, "customer": views.get(event.customer_id), "now": now}
                )
                if not ok:
                    continue
            enrolled += len(enter(session, journey, [event.customer_id], now, event=view).enrollment_ids)
        if enrolled:
            live.publish({"kind": "enrolled", "journeyId": journey.id, "count": enrolled})


def _on_segment_changes(
    session: Session, changes: list[tuple[str, str, bool]], now: datetime, **_: Any
) -> None:
    """Segment entry: customers who just joined an active journey's entry segment enroll."""
    joined: dict[str, list[str]] = defaultdict(list)
    for customer_id, segment_id, is_join in changes:
        if is_join:
            joined[segment_id].append(customer_id)
    if not joined:
        return
    for journey in _active_journeys(session):
        segment_id = plan_of(journey).entry.segment_id
        if segment_id in joined:
            count = len(enter(session, journey, joined[segment_id], now).enrollment_ids)
            if count:
                live.publish({"kind": "enrolled", "journeyId": journey.id, "count": count})


def _on_status_changed(
    session: Session, journey: Journey, old: str, new: str, now: datetime, options: dict[str, Any], **_: Any
) -> None:
    """Activation queues the entry segment's members for enrollment (done in batches by `backfill`)."""
    segment_id = plan_of(journey).entry.segment_id
    if new == "active" and old == "draft" and segment_id:
        row = session.get(SegmentBackfill, journey.id)
        if row is None:
            session.add(SegmentBackfill(journey_id=journey.id, segment_id=segment_id, started_at=now))
        session.flush()


def backfill(limit: int = BACKFILL_BATCH) -> int:
    """Enroll the next batch of entry-segment members of each recently activated journey; returns how many
    customers were looked at (0 when nothing is pending). Paused journeys wait; archived ones stop."""
    handled = 0
    with session() as s:
        pending = s.execute(
            select(SegmentBackfill, Journey)
            .join(Journey, Journey.id == SegmentBackfill.journey_id)
            .where(SegmentBackfill.done.is_(False))  # type: ignore[attr-defined]
        ).all()
        moment = current_time()
        announcements = []
        for progress, journey in pending:
            if journey.status == "archived":
                progress.done, progress.finished_at = True, moment
                continue
            if journey.status != "active":
                continue
            ids = segments.member_ids(s, progress.segment_id, progress.after, limit)
            if ids:
                result = enter(s, journey, ids, moment)
                progress.after = ids[-1]
                progress.enrolled += len(result.enrollment_ids)
                progress.skipped += len(result.skipped)
                handled += len(ids)
                announcements.append((journey.id, len(result.enrollment_ids)))
            if len(ids) < limit:
                progress.done, progress.finished_at = True, moment
        s.flush()
    for journey_id, count in announcements:
        _announce(journey_id, count)
    return handled


def backfill_progress(s: Session, journey_id: str) -> dict[str, Any] | None:
    """How far the activation enrollment of a segment journey got, or None when there is none."""
    row = s.get(SegmentBackfill, journey_id)
    if row is None:
        return None
    return {"segmentId": row.segment_id, "enrolled": row.enrolled, "skipped": row.skipped, "done": row.done}


signals.events_accepted.connect(_on_events)
signals.segment_membership_changed.connect(_on_segment_changes)
signals.journey_status_changed.connect(_on_status_changed)
