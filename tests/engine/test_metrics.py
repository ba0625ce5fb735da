"""Journey metrics and engine status, read from counter/enrollment/delivery rows seeded directly."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine import counters
from engine.clock import VirtualClock
from engine.engine import Engine
from engine.errors import NotFound
from engine.monitoring import engine_status, metrics
from models.channels import Channel, Delivery, DeliveryCounter, ResponseCounter
from models.enrollment import (
    EdgeCounter,
    Enrollment,
    EnrollmentHistory,
    JourneyCounter,
    StepCounter,
)
from models.journey import Journey

STEPS = [
    {"id": "hello", "type": "send", "name": "Hello", "config": {"channelId": "ch_mail"}, "next": "pause"},
    {"id": "pause", "type": "wait", "name": "Pause", "config": {"duration": 1, "unit": "days"},
     "next": "bye"},
    {"id": "bye", "type": "send", "name": "Bye", "config": {"channelId": "ch_app"}},
]


def add_journey(engine: Engine, at: datetime, journey_id: str = "jrn_a", status: str = "active",
                name: str = "Welcome") -> None:
    with engine.session() as s:
        s.add(Journey(id=journey_id, name=name, status=status, steps=STEPS, created_at=at, updated_at=at))


def add_enrollment(
        engine: Engine, at: datetime, number: int, journey_id: str = "jrn_a", **fields: object) -> None:
    values: dict = {"id": f"enr_{journey_id}_{number}", "journey_id": journey_id, "version": 1,
                    "customer_id": f"cus_{number}", "step_id": "pause", "entered_at": at, "updated_at": at}
    values.update(fields)
    with engine.session() as s:
        s.add(Enrollment(**values))


def add_delivery(
        engine: Engine, at: datetime, number: int, step_id: str, channel_id: str, status: str) -> None:
    with engine.session() as s:
        s.add(Delivery(id=f"dlv_{number}", idempotency_key=f"key_{number}", customer_id=f"cus_{number}",
                       channel_id=channel_id, journey_id="jrn_a", enrollment_id=f"enr_jrn_a_{number}",
                       step_id=step_id, status=status, created_at=at))


def add_counters(engine: Engine, *rows: DeliveryCounter | ResponseCounter) -> None:
    with engine.session() as s:
        s.add_all(rows)


def test_unknown_journey_is_not_found(engine: Engine) -> None:
    with pytest.raises(NotFound):
        metrics.journey_metrics(engine, "jrn_missing")


def test_empty_journey_shows_every_step_at_zero(engine: Engine, clock: VirtualClock) -> None:
    add_journey(engine, clock.now())
    result = metrics.journey_metrics(engine, "jrn_a")
    assert [(step["id"], step["current"], step["passed"]) for step in result["steps"]] == [
        ("hello", 0, 0), ("pause", 0, 0), ("bye", 0, 0)]
    assert result["totals"] == {"enrolledNow": 0, "entered": 0, "completed": 0, "exited": 0, "failed": 0,
                                "exitedByReason": {}}
    assert result["edges"] == []
    assert result["deliveries"]["byChannel"] == []
    assert sum(result["series"]["entries"]) == 0


def test_counters_become_step_counts_edges_and_totals(engine: Engine, clock: VirtualClock) -> None:
    add_journey(engine, clock.now())
    with engine.session() as s:
        s.add_all([
            StepCounter(journey_id="jrn_a", step_id="pause", current=7, passed=10),
            StepCounter(journey_id="jrn_a", step_id="hello", current=0, passed=12),
            StepCounter(journey_id="jrn_a", step_id="bye", current=1, passed=3),
            EdgeCounter(journey_id="jrn_a", source="__entry__", target="hello", count=12),
            EdgeCounter(journey_id="jrn_a", source="hello", target="pause", count=10),
            EdgeCounter(journey_id="jrn_a", source="bye", target="", count=2),
            JourneyCounter(journey_id="jrn_a", name="entered", value=12),
            JourneyCounter(journey_id="jrn_a", name="completed", value=2),
            JourneyCounter(journey_id="jrn_a", name="exited", value=2),
            JourneyCounter(journey_id="jrn_a", name="exited:manual", value=1),
            JourneyCounter(journey_id="jrn_a", name="exited:max_duration", value=1),
            JourneyCounter(journey_id="jrn_a", name="failed", value=0),
            JourneyCounter(journey_id="jrn_other", name="entered", value=99),
        ])
    result = metrics.journey_metrics(engine, "jrn_a")
    by_id = {step["id"]: step for step in result["steps"]}
    assert (by_id["pause"]["current"], by_id["pause"]["passed"]) == (7, 10)
    assert by_id["hello"]["type"] == "send" and by_id["hello"]["name"] == "Hello"
    assert result["totals"]["enrolledNow"] == 8
    assert result["totals"]["entered"] == 12
    assert result["totals"]["completed"] == 2
    assert result["totals"]["exitedByReason"] == {"manual": 1, "max_duration": 1}
    assert {"source": "__entry__", "target": "hello", "count": 12} in result["edges"]
    assert {"source": "bye", "target": "", "count": 2} in result["edges"]


def test_step_removed_by_a_new_version_still_shows_its_customers(engine: Engine, clock: VirtualClock) -> None:
    add_journey(engine, clock.now())
    with engine.session() as s:
        s.add(StepCounter(journey_id="jrn_a", step_id="old_wait", current=4, passed=4))
    result = metrics.journey_metrics(engine, "jrn_a")
    assert result["steps"][-1] == {"id": "old_wait", "type": "", "name": "old_wait", "current": 4,
                                   "passed": 4, "removed": True}
    assert result["totals"]["enrolledNow"] == 4


def test_deliveries_grouped_by_channel_and_status(engine: Engine, clock: VirtualClock) -> None:
    at = clock.now()
    add_journey(engine, at)
    with engine.session() as s:
        s.add(Channel(id="ch_mail", name="Mail", type="email", created_at=at, updated_at=at))
    add_counters(engine, *(
        DeliveryCounter(journey_id=journey, step_id=step, channel_id=channel, status=status, count=count)
        for journey, step, channel, status, count in [
            ("jrn_a", "hello", "ch_mail", "sent", 2), ("jrn_a", "hello", "ch_mail", "failed", 1),
            ("jrn_a", "hello", "ch_mail", "queued", 1), ("jrn_a", "hello", "ch_mail", "suppressed", 0),
            ("jrn_a", "bye", "ch_app", "sent", 1), ("jrn_a", "bye", "ch_app", "suppressed", 1),
            ("jrn_other", "hello", "ch_mail", "sent", 5), ("", "", "ch_mail", "sent", 7),
        ]))
    deliveries = metrics.journey_metrics(engine, "jrn_a")["deliveries"]
    assert deliveries["byStatus"] == {"queued": 1, "sent": 3, "failed": 1, "suppressed": 1}
    assert deliveries["byChannel"] == [
        {"channelId": "ch_app", "channelName": "ch_app", "queued": 0, "sent": 1, "failed": 0, "suppressed": 1,
         "total": 2},
        {"channelId": "ch_mail", "channelName": "Mail", "queued": 1, "sent": 2, "failed": 1, "suppressed": 0,
         "total": 4},
    ]


def test_response_rates_are_responding_deliveries_over_sent(engine: Engine, clock: VirtualClock) -> None:
    add_journey(engine, clock.now())
    add_counters(
        engine,
        DeliveryCounter(journey_id="jrn_a", step_id="hello", channel_id="ch_mail", status="sent", count=4),
        DeliveryCounter(journey_id="jrn_a", step_id="hello", channel_id="ch_mail", status="failed", count=3),
        ResponseCounter(journey_id="jrn_a", step_id="hello", outcome="click", count=2),
        ResponseCounter(journey_id="jrn_a", step_id="hello", outcome="conversion", count=1),
        ResponseCounter(journey_id="jrn_a", step_id="hello", outcome="dismiss", count=1),
        ResponseCounter(journey_id="jrn_other", step_id="hello", outcome="click", count=9),
    )
    rates = {row["stepId"]: row for row in metrics.journey_metrics(engine, "jrn_a")["responses"]}
    assert rates["hello"] == {"stepId": "hello", "stepName": "Hello", "sent": 4, "queued": 0, "clicks": 2,
                              "clickRate": 0.5, "conversions": 1, "conversionRate": 0.25}
    assert rates["bye"]["sent"] == 0 and rates["bye"]["clickRate"] == 0.0


def add_slots(engine: Engine, *rows: tuple[datetime, str, int], journey_id: str = "jrn_a") -> None:
    """Entries and completions counted the way the engine counts them."""
    tally = counters.Tally()
    for at, name, count in rows:
        if name == "entered":
            tally.entered(journey_id, at, count)
        else:
            tally.ended(journey_id, "completed", count=count, at=at)
    with engine.session() as s:
        counters.apply(s, tally)


def test_series_buckets_entries_and_completions_by_hour(engine: Engine, clock: VirtualClock) -> None:
    add_journey(engine, clock.now())
    start = clock.now()
    add_slots(engine, (start - timedelta(hours=30), "entered", 1),  # outside the 24-hour window
              (start - timedelta(hours=5), "entered", 2),
              (start - timedelta(hours=1), "completed", 1),
              (start, "entered", 1))
    add_slots(engine, (start, "entered", 7), journey_id="jrn_other")
    result = metrics.journey_metrics(engine, "jrn_a")["series"]
    assert result["bucketSeconds"] == 3600 and len(result["buckets"]) == 24
    assert result["entries"][-1] == 1 and result["entries"][-6] == 2 and sum(result["entries"]) == 3
    assert result["completions"][-2] == 1 and sum(result["completions"]) == 1


def test_short_window_uses_five_minute_buckets(engine: Engine, clock: VirtualClock) -> None:
    add_journey(engine, clock.now())
    add_slots(engine, (clock.now() - timedelta(minutes=7), "entered", 1), (clock.now(), "entered", 2))
    result = metrics.journey_metrics(engine, "jrn_a", hours=1)["series"]
    assert result["bucketSeconds"] == 300 and len(result["buckets"]) == 12
    assert result["entries"][-3:] == [1, 0, 2] and sum(result["entries"]) == 3


def test_month_window_sums_slots_into_days(engine: Engine, clock: VirtualClock) -> None:
    add_journey(engine, clock.now())
    add_slots(engine, (clock.now() - timedelta(days=3, minutes=5), "entered", 4),
              (clock.now() - timedelta(days=3, hours=2), "entered", 1))
    result = metrics.journey_metrics(engine, "jrn_a", hours=720)["series"]
    assert result["bucketSeconds"] == 86400 and len(result["buckets"]) == 30
    assert sum(result["entries"]) == 5 and max(result["entries"]) == 5


def test_engine_status_reports_due_backlog_and_wake_up_lag(engine: Engine, clock: VirtualClock) -> None:
    at = clock.now()
    add_journey(engine, at)
    add_journey(engine, at, "jrn_paused", status="paused", name="Paused")
    add_enrollment(engine, at, 1, next_run_at=at - timedelta(seconds=30))
    add_enrollment(engine, at, 2, next_run_at=at - timedelta(seconds=5))
    add_enrollment(engine, at, 3, next_run_at=at + timedelta(hours=1))  # not due yet
    # Paused: not backlog.
    add_enrollment(engine, at, 4, journey_id="jrn_paused", next_run_at=at - timedelta(hours=2))
    add_enrollment(engine, at, 5, status="failed", error="boom")
    status = engine_status.engine_status(engine)
    assert status["backlog"]["due"] == 2
    assert status["backlog"]["wakeUpLagSeconds"] == 30.0
    assert status["errors"]["failedEnrollments"] == 1
    rows = {row["journeyId"]: row for row in status["journeys"]}
    assert rows["jrn_a"]["due"] == 2 and rows["jrn_paused"]["due"] == 0
    assert rows["jrn_paused"]["status"] == "paused"


def test_engine_status_reports_dispatcher_queue(engine: Engine, clock: VirtualClock) -> None:
    at = clock.now()
    add_journey(engine, at)
    add_delivery(engine, at, 1, "hello", "ch_mail", "queued")
    add_delivery(engine, at, 2, "hello", "ch_mail", "failed")
    with engine.session() as s:
        s.get(Delivery, "dlv_1").next_attempt_at = at - timedelta(seconds=4)
    dispatcher = engine_status.engine_status(engine)["dispatcher"]
    assert dispatcher == {"queued": 1, "queuedCapped": False, "due": 1, "dueCapped": False, "failed": 1,
                          "failedCapped": False, "oldestDueAt": "2026-01-05T08:59:56.000Z", "lagSeconds": 4.0}


def test_large_backlogs_are_counted_up_to_a_cap(engine: Engine, clock: VirtualClock,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_status, "COUNT_CAP", 2)
    at = clock.now()
    add_journey(engine, at)
    for number in range(3):
        add_enrollment(engine, at, number, next_run_at=at - timedelta(minutes=number))
    backlog = engine_status.engine_status(engine)["backlog"]
    assert (backlog["due"], backlog["dueCapped"]) == (2, True)
    assert backlog["wakeUpLagSeconds"] == 120.0  # the oldest is found whatever the cap


def test_throughput_counts_batches_within_the_last_minute(engine: Engine, clock: VirtualClock) -> None:
    add_journey(engine, clock.now())
    old = (clock.now() - timedelta(minutes=5)).isoformat() + "Z"
    engine.live.publish({"kind": "batch", "at": old, "transitions": 1000, "journeys": ["jrn_a"], "errors": 3})
    clock.advance(seconds=30)
    recent = (clock.now() - timedelta(seconds=10)).isoformat() + "Z"
    engine.live.publish({"kind": "batch", "at": recent, "transitions": 120, "journeys": ["jrn_a"],
                         "errors": 1})
    engine.live.publish({"kind": "enrolled", "journeyId": "jrn_a", "count": 50})
    status = engine_status.engine_status(engine)
    assert status["throughput"]["transitions"] == 120
    assert status["throughput"]["stepsPerSecond"] == 2.0
    assert status["errors"]["recentBatchErrors"] == 1
    assert status["recent"][0]["kind"] == "enrolled"
    assert status["journeys"][0]["lastActivityAt"] == recent


def test_recent_steps_are_the_newest_history_rows(engine: Engine, clock: VirtualClock) -> None:
    at = clock.now()
    with engine.session() as s:
        s.add_all([
            EnrollmentHistory(enrollment_id="enr_1", journey_id="jrn_a", customer_id="cus_1", step_id=step,
                              type="wait", version=1, at=at, outcome=outcome)
            for step, outcome in [("pause", "waiting"), ("bye", "sent")]
        ])
    steps = engine_status.engine_status(engine)["recentSteps"]
    assert [(row["stepId"], row["outcome"]) for row in steps] == [("bye", "sent"), ("pause", "waiting")]


def test_journey_totals_give_enrolled_now_and_entered(engine: Engine, clock: VirtualClock) -> None:
    add_journey(engine, clock.now())
    add_journey(engine, clock.now(), journey_id="jrn_b", name="Other")
    with engine.session() as s:
        s.add_all([StepCounter(journey_id="jrn_a", step_id="pause", current=3, passed=5),
                   StepCounter(journey_id="jrn_a", step_id="bye", current=1, passed=1),
                   JourneyCounter(journey_id="jrn_a", name="entered", value=6)])
    assert metrics.journey_totals(engine, ["jrn_a", "jrn_b"]) == {
        "jrn_a": {"enrolledNow": 4, "entered": 6}, "jrn_b": {"enrolledNow": 0, "entered": 0}}
    assert metrics.journey_totals(engine, []) == {}
