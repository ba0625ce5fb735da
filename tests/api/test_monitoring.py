"""The monitoring API: /journeys/{id}/metrics and /engine/status."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from engine.clock import VirtualClock
from engine.counters import SERIES_WIDTHS, slot_of
from engine.engine import Engine
from models.enrollment import Enrollment, JourneyCounter, SeriesCounter, StepCounter
from models.journey import Journey

STEPS = [{"id": "pause", "type": "wait", "name": "Pause", "config": {"duration": 1, "unit": "hours"}}]


def seed(engine: Engine, clock: VirtualClock) -> None:
    at = clock.now()
    with engine.session() as s:
        s.add(Journey(id="jrn_a", name="Welcome", status="active", steps=STEPS, created_at=at, updated_at=at))
        s.add(StepCounter(journey_id="jrn_a", step_id="pause", current=3, passed=3))
        s.add(JourneyCounter(journey_id="jrn_a", name="entered", value=3))
        for width in SERIES_WIDTHS:
            slot = slot_of(at, width)
            s.add(SeriesCounter(journey_id="jrn_a", width=width, slot=slot, name="entered", count=1))
        s.add(Enrollment(id="enr_1", journey_id="jrn_a", version=1, customer_id="cus_1", step_id="pause",
                         next_run_at=at - timedelta(seconds=12), entered_at=at, updated_at=at))


def test_metrics_answer_counts_as_camel_case_json(
    engine: Engine, api: TestClient, clock: VirtualClock
) -> None:
    seed(engine, clock)
    response = api.get("/api/v1/journeys/jrn_a/metrics")
    assert response.status_code == 200
    body = response.json()
    assert body["journeyId"] == "jrn_a"
    assert body["steps"] == [{"id": "pause", "type": "wait", "name": "Pause", "current": 3, "passed": 3}]
    assert body["totals"]["enrolledNow"] == 3 and body["totals"]["entered"] == 3
    assert body["at"].endswith("Z")
    assert body["series"]["entries"][-1] == 1


def test_metrics_window_selects_bucket_width(engine: Engine, api: TestClient, clock: VirtualClock) -> None:
    seed(engine, clock)
    body = api.get("/api/v1/journeys/jrn_a/metrics", params={"hours": 168}).json()
    assert body["series"]["bucketSeconds"] == 86400 and len(body["series"]["buckets"]) == 7


def test_metrics_of_unknown_journey_is_404_envelope(api: TestClient) -> None:
    response = api.get("/api/v1/journeys/jrn_nope/metrics")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_metrics_window_out_of_range_is_422_naming_hours(
    engine: Engine, api: TestClient, clock: VirtualClock
) -> None:
    seed(engine, clock)
    response = api.get("/api/v1/journeys/jrn_a/metrics", params={"hours": 0})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == "hours"


def test_engine_status_reports_backlog_and_journeys(
    engine: Engine, api: TestClient, clock: VirtualClock
) -> None:
    seed(engine, clock)
    response = api.get("/api/v1/engine/status")
    assert response.status_code == 200
    body = response.json()
    assert body["backlog"]["due"] == 1 and body["backlog"]["wakeUpLagSeconds"] == 12.0
    assert body["journeys"][0]["journeyId"] == "jrn_a" and body["journeys"][0]["enrolledNow"] == 3
    assert set(body) >= {"throughput", "dispatcher", "errors", "recent", "recentSteps"}
