"""Maintained counters, updated in the same transaction as every row change they count.

StepCounter.current = active enrollments at that step now; .passed = executions of that step.
EdgeCounter(source, target) = moves source -> target (target "" = ended there; source "__entry__" = entered).
JourneyCounter: entered, completed, failed (currently failed), exited, "exited:<reason>".
SeriesCounter: entered and completed per slot of each SERIES_WIDTHS width (the monitor's time series).
DeliveryCounter(journey, step, channel, status) = deliveries in that status: queued or suppressed (outbox),
moved out of queued (dispatcher, customer erasure). ResponseCounter(journey, step, outcome) = deliveries
that drew that outcome at least once (responses). No journey or step counts as "".

Every writer gathers its deltas in a Tally it is handed and the transaction's owner writes it once with
`apply`, so the counters always equal a recount of the rows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

from sqlmodel import Session

from engine.upsert import add_counts
from models.channels import DeliveryCounter, ResponseCounter
from models.enrollment import EdgeCounter, JourneyCounter, SeriesCounter, StepCounter

# Slot widths in seconds: 5 minutes, an hour, a day. Slots align to whole widths since EPOCH.
SERIES_WIDTHS = (300, 3600, 86400)
EPOCH = datetime(2000, 1, 1)


def slot_of(at: datetime, width: int) -> datetime:
    """The start of the `width`-second slot holding `at`."""
    return EPOCH + timedelta(seconds=(at - EPOCH).total_seconds() // width * width)


@dataclass
class Tally:
    """Counter deltas gathered in memory while a batch runs, written once at its end."""

    current: Counter[tuple[str, str]] = field(default_factory=Counter)
    passed: Counter[tuple[str, str]] = field(default_factory=Counter)
    edges: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    journey: Counter[tuple[str, str]] = field(default_factory=Counter)
    series: Counter[tuple[str, int, datetime, str]] = field(default_factory=Counter)
    deliveries: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    responses: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    def at_step(self, journey_id: str, step_id: str | None, delta: int) -> None:
        if step_id:
            self.current[(journey_id, step_id)] += delta

    def edge(self, journey_id: str, source: str, target: str | None, count: int = 1) -> None:
        self.edges[(journey_id, source, target or "")] += count

    def entered(self, journey_id: str, at: datetime, count: int) -> None:
        self.journey[(journey_id, "entered")] += count
        self._moment(journey_id, at, "entered", count)

    def ended(self, journey_id: str, status: str, reason: str | None = None, count: int = 1,
              at: datetime | None = None) -> None:
        """An enrollment left the journey: completed (at `at`), exited (with its reason) or failed."""
        self.journey[(journey_id, status)] += count
        if status == "exited" and reason:
            self.journey[(journey_id, f"exited:{reason}")] += count
        if status == "completed" and at is not None:
            self._moment(journey_id, at, "completed", count)

    def delivery(self, journey_id: str | None, step_id: str | None, channel_id: str, status: str,
                 previous: str | None = None) -> None:
        """One delivery into `status`, and out of `previous` when it had one."""
        self.deliveries[(journey_id or "", step_id or "", channel_id, status)] += 1
        if previous is not None:
            self.deliveries[(journey_id or "", step_id or "", channel_id, previous)] -= 1

    def first_response(self, journey_id: str | None, step_id: str | None, outcome: str) -> None:
        """A delivery that drew `outcome` for the first time."""
        self.responses[(journey_id or "", step_id or "", outcome)] += 1

    def take(self, other: Tally) -> None:
        """Move `other`'s deltas (a step's, once it succeeded) into these, leaving `other` empty."""
        for name in _FIELDS:
            if deltas := getattr(other, name):
                getattr(self, name).update(deltas)
                deltas.clear()

    def clear(self) -> None:
        for name in _FIELDS:
            getattr(self, name).clear()

    def _moment(self, journey_id: str, at: datetime, name: str, count: int) -> None:
        for width in SERIES_WIDTHS:
            self.series[(journey_id, width, slot_of(at, width), name)] += count


_FIELDS = tuple(field.name for field in fields(Tally))


def apply(session: Session, tally: Tally) -> None:
    """Add the deltas with one upsert per counter table (sorted, so concurrent workers lock in one order)."""
    steps: dict[tuple[str, str], list[int]] = {}
    for key, delta in tally.current.items():
        steps.setdefault(key, [0, 0])[0] += delta
    for key, delta in tally.passed.items():
        steps.setdefault(key, [0, 0])[1] += delta
    add_counts(
        session,
        StepCounter,
        ("journey_id", "step_id"),
        ("current", "passed"),
        [(*key, *values) for key, values in sorted(steps.items()) if any(values)],
    )
    for model, keys, value, deltas in (
        (EdgeCounter, ("journey_id", "source", "target"), "count", tally.edges),
        (JourneyCounter, ("journey_id", "name"), "value", tally.journey),
        (SeriesCounter, ("journey_id", "width", "slot", "name"), "count", tally.series),
        (DeliveryCounter, ("journey_id", "step_id", "channel_id", "status"), "count", tally.deliveries),
        (ResponseCounter, ("journey_id", "step_id", "outcome"), "count", tally.responses),
    ):
        add_counts(session, model, keys, (value,),
                   [(*key, delta) for key, delta in sorted(deltas.items()) if delta])
