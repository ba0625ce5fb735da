"""Maintained counters, updated in the same transaction as every enrollment change.

StepCounter.current = active enrollments at that step now; .passed = executions of that step.
EdgeCounter(source, target) = moves source -> target (target "" = ended there; source "__entry__" = entered).
JourneyCounter: entered, completed, failed (currently failed), exited, "exited:<reason>".
SeriesCounter: entered and completed per slot of each SERIES_WIDTHS width (the monitor's time series).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from engine.upsert import add_counts
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

    def _moment(self, journey_id: str, at: datetime, name: str, count: int) -> None:
        for width in SERIES_WIDTHS:
            self.series[(journey_id, width, slot_of(at, width), name)] += count


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
    add_counts(
        session,
        EdgeCounter,
        ("journey_id", "source", "target"),
        ("count",),
        [(*key, delta) for key, delta in sorted(tally.edges.items()) if delta],
    )
    add_counts(
        session,
        JourneyCounter,
        ("journey_id", "name"),
        ("value",),
        [(*key, delta) for key, delta in sorted(tally.journey.items()) if delta],
    )
    add_counts(
        session,
        SeriesCounter,
        ("journey_id", "width", "slot", "name"),
        ("count",),
        [(*key, delta) for key, delta in sorted(tally.series.items()) if delta],
    )
