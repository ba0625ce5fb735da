"""A journey's monitoring figures, all primary-key range reads of maintained counters: the runner's
(StepCounter, EdgeCounter, JourneyCounter, SeriesCounter) and the outbox's (DeliveryCounter,
ResponseCounter). Nothing here counts enrollment rows, so it stays cheap at a million enrollments.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from engine.counters import SERIES_WIDTHS, slot_of
from engine.engine import Engine
from engine.records import fetch
from engine.runtime.entry import backfill_progress
from models.channels import DELIVERY_STATUSES, Channel, Delivery, DeliveryCounter, Response, ResponseCounter
from models.common import iso
from models.enrollment import EdgeCounter, JourneyCounter, SeriesCounter, StepCounter
from models.journey import Journey

END = ""  # EdgeCounter target when the journey ended at the source step
MAX_WINDOW_HOURS = 24 * 30
RATE_OUTCOMES = ("click", "conversion")


def journey_metrics(engine: Engine, journey_id: str, hours: int = 24) -> dict[str, Any]:
    """Everything the journey monitor shows, as wire-form JSON (the API answers exactly this)."""
    with engine.reader() as s:
        return collect(s, journey_id, engine.now(), hours)


def collect(s: Session, journey_id: str, at: datetime, hours: int = 24) -> dict[str, Any]:
    """The metrics of one journey at `at`, with a time series over the last `hours`."""
    journey = fetch(s, Journey, journey_id, "journey")
    steps = _steps(s, journey)
    deliveries = _deliveries(s, journey_id)
    return {
        "journeyId": journey.id,
        "name": journey.name,
        "status": journey.status,
        "version": journey.version,
        "at": iso(at),
        "totals": _totals(s, journey_id, steps),
        "steps": steps,
        "edges": _edges(s, journey_id),
        "deliveries": _by_channel(s, deliveries),
        "responses": _response_rates(s, journey_id, steps, deliveries),
        "series": series(s, journey, at, hours),
        "backfill": backfill_progress(s, journey_id),
    }


def _steps(s: Session, journey: Journey) -> list[dict[str, Any]]:
    """The current definition's steps in document order, each with its live and total counts."""
    counters = {
        row.step_id: row
        for row in s.execute(select(StepCounter).where(StepCounter.journey_id == journey.id)).scalars()
    }
    steps = []
    for step in journey.steps:
        counter = counters.pop(step["id"], None)
        steps.append(_step_row(step["id"], step.get("type", ""), step.get("name") or step["id"], counter))
    # Steps removed by a later version may still hold customers: show them rather than lose count.
    for step_id, counter in sorted(counters.items()):
        if counter.current or counter.passed:
            steps.append(_step_row(step_id, "", step_id, counter, removed=True))
    return steps


def _step_row(step_id: str, step_type: str, name: str, counter: StepCounter | None,
              removed: bool = False) -> dict[str, Any]:
    row = {"id": step_id, "type": step_type, "name": name,
           "current": counter.current if counter else 0, "passed": counter.passed if counter else 0}
    if removed:
        row["removed"] = True
    return row


def journey_totals(engine: Engine, journey_ids: list[str]) -> dict[str, dict[str, int]]:
    """Enrolled now and entered per journey, for lists: two key-range reads of the counters."""
    if not journey_ids:
        return {}
    totals = {journey_id: {"enrolledNow": 0, "entered": 0} for journey_id in journey_ids}
    with engine.reader() as s:
        for journey_id, current in s.execute(
            select(StepCounter.journey_id, func.sum(StepCounter.current))
            .where(StepCounter.journey_id.in_(journey_ids)).group_by(StepCounter.journey_id)
        ):
            totals[journey_id]["enrolledNow"] = int(current or 0)
        for journey_id, value in s.execute(
            select(JourneyCounter.journey_id, JourneyCounter.value)
            .where(JourneyCounter.journey_id.in_(journey_ids), JourneyCounter.name == "entered")
        ):
            totals[journey_id]["entered"] = value
    return totals


def _totals(s: Session, journey_id: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    values = dict(
        s.execute(
            select(JourneyCounter.name, JourneyCounter.value).where(JourneyCounter.journey_id == journey_id)
        ).all()
    )
    reasons = {name.split(":", 1)[1]: value for name, value in values.items() if name.startswith("exited:")}
    return {
        "enrolledNow": sum(step["current"] for step in steps),
        "entered": values.get("entered", 0),
        "completed": values.get("completed", 0),
        "exited": values.get("exited", 0),
        "failed": values.get("failed", 0),
        "exitedByReason": dict(sorted(reasons.items(), key=lambda item: -item[1])),
    }


def _edges(s: Session, journey_id: str) -> list[dict[str, Any]]:
    rows = s.execute(
        select(EdgeCounter.source, EdgeCounter.target, EdgeCounter.count)
        .where(EdgeCounter.journey_id == journey_id)
        .order_by(EdgeCounter.source, EdgeCounter.target)
    )
    return [{"source": source, "target": target, "count": count} for source, target, count in rows]


def _deliveries(s: Session, journey_id: str) -> list[tuple[str, str, str, int]]:
    """(step, channel, status, count) for this journey's deliveries: one counter read feeds two panels."""
    return list(
        s.execute(
            select(DeliveryCounter.step_id, DeliveryCounter.channel_id, DeliveryCounter.status,
                   DeliveryCounter.count)
            .where(DeliveryCounter.journey_id == journey_id, DeliveryCounter.count != 0)
        )
    )


def _by_channel(s: Session, deliveries: list[tuple[str, str, str, int]]) -> dict[str, Any]:
    channels: dict[str, dict[str, int]] = {}
    by_status = dict.fromkeys(DELIVERY_STATUSES, 0)
    for _step, channel_id, status, count in deliveries:
        row = channels.setdefault(channel_id, dict.fromkeys(DELIVERY_STATUSES, 0))
        row[status] = row.get(status, 0) + count
        by_status[status] = by_status.get(status, 0) + count
    names = _channel_names(s, list(channels))
    return {
        "byStatus": by_status,
        "byChannel": [
            {"channelId": channel_id, "channelName": names.get(channel_id, channel_id), **counts,
             "total": sum(counts.values())}
            for channel_id, counts in sorted(channels.items())
        ],
    }


def _channel_names(s: Session, channel_ids: list[str]) -> dict[str, str]:
    if not channel_ids:
        return {}
    rows = s.execute(select(Channel.id, Channel.name).where(Channel.id.in_(channel_ids)))
    return dict(rows.all())


def _response_rates(s: Session, journey_id: str, steps: list[dict[str, Any]],
                    deliveries: list[tuple[str, str, str, int]]) -> list[dict[str, Any]]:
    """Per send step: messages sent and the share of them clicked / converted (each delivery counted once)."""
    sent: dict[str, int] = {}
    queued: dict[str, int] = {}
    for step_id, _channel, status, count in deliveries:
        if not step_id:
            continue
        if status == "sent":
            sent[step_id] = sent.get(step_id, 0) + count
        elif status == "queued":
            queued[step_id] = queued.get(step_id, 0) + count
    responded: dict[tuple[str, str], int] = {
        (step_id, outcome): count
        for step_id, outcome, count in s.execute(
            select(ResponseCounter.step_id, ResponseCounter.outcome, ResponseCounter.count)
            .where(ResponseCounter.journey_id == journey_id, ResponseCounter.outcome.in_(RATE_OUTCOMES))
        )
    }
    send_steps = [step for step in steps if step["type"] == "send" or step["id"] in sent]
    rates = []
    for step in send_steps:
        delivered = sent.get(step["id"], 0)
        row: dict[str, Any] = {"stepId": step["id"], "stepName": step["name"], "sent": delivered,
                               "queued": queued.get(step["id"], 0)}
        for outcome in RATE_OUTCOMES:
            count = responded.get((step["id"], outcome), 0)
            row[f"{outcome}s"] = count
            row[f"{outcome}Rate"] = round(count / delivered, 4) if delivered else 0.0
        rates.append(row)
    return rates


def bucket_seconds(hours: int) -> int:
    """Bucket width for a window: 5 minutes up to 2 h, hourly up to 2 days, daily beyond."""
    five_minutes, hour, day = SERIES_WIDTHS
    if hours <= 2:
        return five_minutes
    if hours <= 48:
        return hour
    return day


def series(s: Session, journey: Journey, at: datetime, hours: int = 24) -> dict[str, Any]:
    """Entries and completions per bucket over the last `hours`, ending with the bucket that holds `at`:
    one primary-key range read of the SeriesCounter slots kept at that bucket width."""
    hours = max(1, min(hours, MAX_WINDOW_HOURS))
    width = bucket_seconds(hours)
    count = hours * 3600 // width
    first = slot_of(at, width) - timedelta(seconds=width * (count - 1))
    starts = [first + timedelta(seconds=width * index) for index in range(count)]
    totals = {"entered": dict.fromkeys(starts, 0), "completed": dict.fromkeys(starts, 0)}
    rows = s.execute(
        select(SeriesCounter.slot, SeriesCounter.name, SeriesCounter.count).where(
            SeriesCounter.journey_id == journey.id, SeriesCounter.width == width, SeriesCounter.slot >= first
        )
    )
    for slot, name, value in rows:
        if slot in totals[name]:
            totals[name][slot] += value
    return {"bucketSeconds": width, "buckets": [iso(start) for start in starts],
            "entries": list(totals["entered"].values()), "completions": list(totals["completed"].values())}


def enrollment_messages(engine: Engine, enrollment_id: str) -> list[dict[str, Any]]:
    """What one enrollment was sent (oldest first), each with its channel and the responses it drew."""
    with engine.reader() as s:
        deliveries = s.execute(
            select(Delivery, Channel.name).outerjoin(Channel, Channel.id == Delivery.channel_id)
            .where(Delivery.enrollment_id == enrollment_id).order_by(Delivery.created_at, Delivery.id)
        ).all()
        responses: dict[str, list[dict[str, Any]]] = {}
        ids = [delivery.id for delivery, _name in deliveries]
        if ids:
            for row in s.execute(
                select(Response).where(Response.delivery_id.in_(ids)).order_by(Response.at)
            ).scalars():
                responses.setdefault(row.delivery_id, []).append({"outcome": row.outcome, "at": iso(row.at)})
        return [
            {"id": delivery.id, "stepId": delivery.step_id, "channelId": delivery.channel_id,
             "channelName": name or delivery.channel_id, "offerId": delivery.offer_id,
             "status": delivery.status, "attempts": delivery.attempts, "lastError": delivery.last_error,
             "createdAt": iso(delivery.created_at), "sentAt": iso(delivery.sent_at),
             "responses": responses.get(delivery.id, [])}
            for delivery, name in deliveries
        ]
