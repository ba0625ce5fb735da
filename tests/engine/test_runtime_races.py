"""Races between the runner and everything else: entry caused by a step, lost write-backs, journeys paused
between claim and batch, transient database errors, backfills, customer deletion and scheduler leases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.audience import segments
from engine.core import Core, session
from engine.runtime import runner
from models.audience import SegmentIn
from models.channels import Delivery
from models.enrollment import Enrollment, EnrollmentHistory
from tests.delivery_kit import seed_channel, seed_offer
from tests.engine.test_runtime import enroll, exit_step, journey_counters, make_customers, make_journey

RESTART_STEPS: list[dict[str, Any]] = [
    {"id": "tag", "type": "update", "config": {"operations": [{"op": "addSegment", "segmentId": "vip"}]},
     "next": "hold"},
    {"id": "hold", "type": "send", "config": {"channelId": "ch_app", "offerId": "off_tea"}, "next": "bye"},
    exit_step("bye"),
]


def restart_journey() -> str:
    """The issue's scenario: entry by static segment `vip` with restart; the first step adds to `vip`."""
    segments.create_segment(SegmentIn(id="vip", name="VIP", static=True))
    seed_channel("ch_app", "in_app", {})
    seed_offer("off_tea")
    return make_journey(RESTART_STEPS, entryConditions={"segmentId": "vip", "reentry": "restart"})


def deliveries() -> list[Delivery]:
    with session() as s:
        return list(s.execute(select(Delivery)).scalars())


def history_after_end() -> list[tuple[str, str]]:
    """(enrollment, step) of every history row written after its enrollment ended."""
    with session() as s:
        rows = s.execute(
            select(EnrollmentHistory.enrollment_id, EnrollmentHistory.step_id)
            .join(Enrollment, Enrollment.id == EnrollmentHistory.enrollment_id)
            .where(Enrollment.ended_at.is_not(None), EnrollmentHistory.at > Enrollment.ended_at)  # type: ignore[union-attr]
        ).all()
    return [tuple(row) for row in rows]


def test_a_step_joining_its_own_entry_segment_sends_once_and_keeps_counters_whole(engine_core: Core) -> None:
    make_customers("c1")
    journey_id = restart_journey()
    enroll(journey_id, "c1")
    runner.run_due()
    runner.run_due()
    assert len(deliveries()) == 1
    assert history_after_end() == []
    steps = journey_counters(journey_id)["steps"]
    assert all(current >= 0 for current, _passed in steps.values()), steps
    assert steps["hold"] == (0, 1)
    assert steps["tag"] == (0, 1)
