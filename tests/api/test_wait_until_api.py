"""GET /api/v1/enrollments/{id} for a wait until a renewal date minus 3 days at 09:00 local: nextRunAt is the
instant zoneinfo computes; a renewal date that has passed moves on at once, the history saying why."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from engine.engine import Engine
from engine.runtime import runner
from tests.engine.test_runtime import exit_step, make_customers, make_journey
from tests.engine.test_wait_until import until, words

RENEWAL = {"attribute": "renewalDate", "offset": {"days": -3}, "at": "09:00"}


def enroll(api: TestClient, journey_id: str, customer_id: str) -> str:
    answer = api.post(f"/api/v1/journeys/{journey_id}/enroll", json={"customerId": customer_id})
    return answer.json()["enrollmentIds"][0]


def test_next_run_at_is_the_renewal_date_minus_three_days_at_nine_local(
    engine: Engine, api: TestClient
) -> None:
    make_customers(engine, "c1", timezone="America/Los_Angeles", renewalDate="2026-04-02")
    journey_id = make_journey(engine, [until("w", "bye", **RENEWAL), exit_step("bye")], maxDuration=365)
    eid = enroll(api, journey_id, "c1")
    runner.run_due(engine)
    body = api.get(f"/api/v1/enrollments/{eid}").json()
    expected = datetime(2026, 3, 30, 9, 0, tzinfo=ZoneInfo("America/Los_Angeles")).astimezone(UTC)
    assert body["nextRunAt"] == expected.strftime("%Y-%m-%dT%H:%M:%S.000Z") == "2026-03-30T16:00:00.000Z"
    [item] = body["history"]
    assert (item["outcome"], item["detail"]["until"], item["detail"]["zone"]) == (
        "waiting", "2026-03-30T16:00:00Z", "America/Los_Angeles")


def test_a_past_renewal_date_moves_on_at_once_with_a_worded_reason(engine: Engine, api: TestClient) -> None:
    make_customers(engine, "c1", timezone="Europe/Berlin", renewalDate="2026-01-06")
    journey_id = make_journey(engine, [until("w", "bye", **RENEWAL), exit_step("bye")])
    eid = enroll(api, journey_id, "c1")
    runner.run_due(engine)
    body = api.get(f"/api/v1/enrollments/{eid}").json()
    assert (body["status"], body["nextRunAt"]) == ("exited", None)
    wait_item, bye = body["history"]
    assert (wait_item["outcome"], bye["stepId"]) == ("past", "bye")
    assert wait_item["at"] == bye["at"] == "2026-01-05T09:00:00.000Z"
    assert words(wait_item) == \
        "Wait moved on: renewalDate 2026-01-06 − 3 days has passed (Sat 3 Jan 2026 09:00 Europe/Berlin)"
