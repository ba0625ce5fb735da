"""Entry into journeys: manual, by segment (all members on activation, then each who joins) and by event,
with the re-entry policy and cooldown enforced on every path."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from engine import counters, signals
from engine.audience import segments
from engine.counters import Tally
from engine.engine import Engine
from engine.errors import Conflict
from engine.expressions import is_true
from engine.journeys.graph import ENTRY_ID
from engine.journeys.plan import plan_of
from engine.records import fetch
from engine.runtime import enrollment_store
from engine.runtime.enrollments import exit_where
from engine.unit_of_work import Origin, UnitOfWork
from models.audience import Customer, Event
from models.enrollment import SegmentBackfill
from models.journey import Journey

J = Journey.__table__  # type: ignore[attr-defined]
B = SegmentBackfill.__table__  # type: ignore[attr-defined]
# Customers enrolled per backfill batch (segment members after activation).
BACKFILL_BATCH = 1000
# Keeps IN (...) lists under every database's parameter limit.
CHUNK = 500


@dataclass
class EntryResult:
    enrollment_ids: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)


def enroll(engine: Engine, journey_id: str, customer_ids: list[str]) -> dict[str, Any]:
    """Manual enrollment (API/UI), only while the journey is active; unknown customers are skipped."""
    with engine.session() as s:
        journey = fetch(s, Journey, journey_id, "journey")
        if journey.status != "active":
            raise Conflict(f"journey {journey_id} is {journey.status}: only an active journey enrolls")
        result = enter(s, journey, customer_ids, engine.now())
        answer = {
            "journeyId": journey.id,
            "journeyName": journey.name,
            "enrolled": len(result.enrollment_ids),
            "skipped": len(result.skipped),
            "enrollmentIds": result.enrollment_ids,
            "skippedCustomers": result.skipped,
        }
    _announce(engine, journey_id, len(result.enrollment_ids))
    return answer


def enter(
    s: Session,
    journey: Journey,
    customer_ids: list[str],
    now: datetime,
    events: dict[str, dict[str, Any]] | None = None,
) -> EntryResult:
    """Enroll the given customers at the first step, applying the journey's re-entry policy and cooldown;
    `events` maps a customer to the event that enrolls them (kept in the enrollment's context)."""
    result = EntryResult()
    plan = plan_of(journey)
    if plan.first is None:
        result.skipped = [{"customerId": cid, "reason": "journey_has_no_steps"} for cid in customer_ids]
        return result
    # Lock order everywhere: journey, then its enrollments. Entries into one journey take turns, so two at
    # once cannot both pass the re-entry check, and a journey paused or archived meanwhile enrolls no one.
    status = s.execute(select(J.c.status).where(J.c.id == journey.id).with_for_update()).scalar_one_or_none()
    if status != "active":
        result.skipped = [{"customerId": cid, "reason": "journey_not_active"} for cid in customer_ids]
        return result
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
        result.enrollment_ids = _insert(s, journey, plan.first, admitted, now, events or {})
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
        rows = enrollment_store.previous_enrollments(s, journey_id, ids[start : start + CHUNK])
        for customer_id, enrollment_id, status, entered in rows:
            previous[customer_id].append((enrollment_id, status, entered))
    return previous


def _insert(
    s: Session,
    journey: Journey,
    first: str,
    customer_ids: list[str],
    now: datetime,
    events: dict[str, dict[str, Any]],
) -> list[str]:
    contexts = [
        {"results": {}, "event": events[cid]} if cid in events else {"results": {}} for cid in customer_ids
    ]
    ids = enrollment_store.insert_enrollments(
        s, journey.id, journey.version, first, customer_ids, contexts, now
    )
    tally = Tally()
    tally.entered(journey.id, now, len(ids))
    tally.at_step(journey.id, first, len(ids))
    tally.edge(journey.id, ENTRY_ID, first, len(ids))
    counters.apply(s, tally)
    return ids


def _announce(engine: Engine, journey_id: str, count: int) -> None:
    """After commit: tell the pages and wake the runner."""
    if count:
        engine.live.publish({"kind": "enrolled", "journeyId": journey_id, "count": count})
        signals.work_available.send(engine=engine)


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


# ---- entry paths driven by signals (engine.wiring says when each runs) ----------------------------------


def enter_on_events(engine: Engine, uow: UnitOfWork, events: list[Event], now: datetime, **_: Any) -> None:
    """Event entry, in the transaction that stores the events: per journey, one entry for every customer
    with a matching event whose condition holds (a customer's first such event in the batch enrolls them);
    the pages hear of it once that transaction has committed."""
    session = uow.session
    journeys = [j for j in _active_journeys(session) if plan_of(j).entry.event_type]
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
        chosen: dict[str, dict[str, Any]] = {}
        for event in matching:
            if event.customer_id in chosen:
                continue
            view = event_view(event)
            if entry.condition:
                variables = {"event": view, "customer": views.get(event.customer_id), "now": now}
                ok, _reason = is_true(engine, entry.condition, variables)
                if not ok:
                    continue
            chosen[event.customer_id] = view
        if chosen:
            enrolled = len(enter(session, journey, list(chosen), now, events=chosen).enrollment_ids)
            if enrolled:
                uow.after_commit(partial(engine.live.publish,
                                         {"kind": "enrolled", "journeyId": journey.id, "count": enrolled}))


def enter_on_join(
    engine: Engine, changes: list[tuple[str, str, bool]], now: datetime, origin: Origin | None = None,
    **_: Any
) -> None:
    """Segment entry, after the change committed: customers who joined an active journey's entry segment
    (and are still in it) enroll. A customer whose own enrollment's step made them join is not entered into
    that same journey again: they were in it when they joined, and it would restart or repeat itself."""
    joined: dict[str, list[str]] = defaultdict(list)
    for customer_id, segment_id, is_join in changes:
        if is_join:
            joined[segment_id].append(customer_id)
    if not joined:
        return
    announcements = []
    with engine.session() as s:
        moment = engine.now()
        for journey in _active_journeys(s):
            segment_id = plan_of(journey).entry.segment_id
            if segment_id not in joined:
                continue
            candidates = joined[segment_id]
            if origin and origin.journey_id == journey.id:
                candidates = [cid for cid in candidates if cid != origin.customer_id]
            member_of = segments.memberships(s, candidates)
            still = [cid for cid in candidates if segment_id in member_of.get(cid, ())]
            if still:
                announcements.append((journey.id, len(enter(s, journey, still, moment).enrollment_ids)))
    for journey_id, count in announcements:
        _announce(engine, journey_id, count)


def queue_backfill(
    session: Session, journey: Journey, old: str, new: str, now: datetime, options: dict[str, Any], **_: Any
) -> None:
    """Activation queues the entry segment's members for enrollment (done in batches by `backfill`)."""
    segment_id = plan_of(journey).entry.segment_id
    if new == "active" and old == "draft" and segment_id:
        row = session.get(SegmentBackfill, journey.id)
        if row is None:
            session.add(SegmentBackfill(journey_id=journey.id, segment_id=segment_id, started_at=now))
        session.flush()


def backfill(engine: Engine, limit: int = BACKFILL_BATCH) -> int:
    """Enroll the next batch of entry-segment members of one recently activated journey; returns how many
    customers were looked at (0 when nothing is pending). Paused journeys wait; archived ones stop.

    One backfill per journey at a time: a worker claims the journey's progress row (FOR UPDATE SKIP LOCKED
    on PostgreSQL; SQLite writers take turns), so two processes never enroll the same members at once."""
    handled, announcements = 0, []
    with engine.session() as s:
        moment = engine.now()
        pending = (
            select(B.c.journey_id)
            .join(J, J.c.id == B.c.journey_id)
            .where(B.c.done.is_(False), J.c.status.in_(("active", "archived")))
            .order_by(B.c.journey_id)
            .limit(1)
        )
        if not engine.db.is_sqlite:
            pending = pending.with_for_update(skip_locked=True, of=B)
        journey_id = s.execute(pending).scalar_one_or_none()
        if journey_id is None:
            return 0
        progress = s.get(SegmentBackfill, journey_id)
        journey = s.get(Journey, journey_id)
        assert progress is not None and journey is not None  # claimed just now, in this transaction
        archived = journey.status == "archived"
        ids = [] if archived else segments.member_ids(s, progress.segment_id, progress.after, limit)
        if ids:
            result = enter(s, journey, ids, moment)
            progress.after = ids[-1]
            progress.enrolled += len(result.enrollment_ids)
            progress.skipped += len(result.skipped)
            handled = len(ids)
            announcements.append((journey.id, len(result.enrollment_ids)))
        if len(ids) < limit:
            progress.done, progress.finished_at = True, moment
            # An archived or finished journey still counts as work done, so the caller looks again.
            handled = max(handled, 1)
        s.flush()
    for announced_id, count in announcements:
        _announce(engine, announced_id, count)
    return handled


def backfill_progress(s: Session, journey_id: str) -> dict[str, Any] | None:
    """How far the activation enrollment of a segment journey got, or None when there is none."""
    row = s.get(SegmentBackfill, journey_id)
    if row is None:
        return None
    return {"segmentId": row.segment_id, "enrolled": row.enrolled, "skipped": row.skipped, "done": row.done}

