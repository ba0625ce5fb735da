"""GET /enrollments (filters, envelope), GET /enrollments/{id} with history, retry and exit."""

from __future__ import annotations

from fastapi.testclient import TestClient

from engine.engine import Engine
from engine.runtime import runner
from tests.engine.test_runtime import exit_step, make_customers, make_journey, wait

ITEM_KEYS = {"id", "journeyId", "customerId", "stepId", "status", "exitReason", "enteredAt", "nextRunAt"}


def test_list_filters_and_pages_enrollments(engine: Engine, api: TestClient) -> None:
    make_customers(engine, "c1", "c2", "c3")
    journey_id = make_journey(engine, [wait("w", 1, "days")])
    other = make_journey(engine, [exit_step("x")], name="other")
    api.post(f"/api/v1/journeys/{journey_id}/enroll", json={"customerIds": ["c1", "c2", "c3"]})
    api.post(f"/api/v1/journeys/{other}/enroll", json={"customerId": "c1"})
    runner.run_due(engine)
    page = api.get("/api/v1/enrollments", params={"journeyId": journey_id, "limit": 2}).json()
    assert page["pagination"] == {"total": 3, "limit": 2, "offset": 0, "hasMore": True}
    assert set(page["data"][0]) >= ITEM_KEYS
    waiting = page["data"][0]
    assert (waiting["status"], waiting["stepId"], waiting["nextRunAt"]) == (
        "active",
        "w",
        "2026-01-06T09:00:00.000Z",
    )
    assert api.get("/api/v1/enrollments", params={"status": "exited"}).json()["pagination"]["total"] == 1
    assert api.get("/api/v1/enrollments", params={"customerId": "c1"}).json()["pagination"]["total"] == 2
    assert api.get("/api/v1/enrollments", params={"stepId": "w"}).json()["pagination"]["total"] == 3
    assert api.get("/api/v1/enrollments", params={"status": "weird"}).status_code == 422
    assert api.get("/api/v1/enrollments", params={"limit": 500}).status_code == 422


def test_one_enrollment_carries_its_history(engine: Engine, api: TestClient) -> None:
    make_customers(engine, "c1")
    journey_id = make_journey(engine, [wait("w", 1, "hours", "x"), exit_step("x", "done")])
    [eid] = api.post(f"/api/v1/journeys/{journey_id}/enroll", json={"customerId": "c1"}).json()[
        "enrollmentIds"
    ]
    runner.run_due(engine)
    body = api.get(f"/api/v1/enrollments/{eid}").json()
    assert set(body) >= ITEM_KEYS
    [item] = body["history"]
    assert {key: item[key] for key in ("stepId", "type", "at", "outcome", "version")} == {
        "stepId": "w",
        "type": "wait",
        "at": "2026-01-05T09:00:00.000Z",
        "outcome": "waiting",
        "version": 1,
    }
    assert item["detail"]["until"] == "2026-01-05T10:00:00Z"
    assert api.get("/api/v1/enrollments/enr_missing").status_code == 404


def test_retry_and_exit_answer_409_in_the_wrong_state(engine: Engine, api: TestClient) -> None:
    make_customers(engine, "c1")
    journey_id = make_journey(engine, [wait("w", 1, "days")])
    [eid] = api.post(f"/api/v1/journeys/{journey_id}/enroll", json={"customerId": "c1"}).json()[
        "enrollmentIds"
    ]
    assert api.post(f"/api/v1/enrollments/{eid}/retry").status_code == 409
    exited = api.post(f"/api/v1/enrollments/{eid}/exit")
    assert (exited.status_code, exited.json()["status"], exited.json()["exitReason"]) == (
        200,
        "exited",
        "manual",
    )
    assert api.post(f"/api/v1/enrollments/{eid}/exit").status_code == 409
    assert api.post("/api/v1/enrollments/enr_missing/retry").status_code == 404


def test_retry_puts_a_failed_enrollment_back_at_its_step(engine: Engine, api: TestClient) -> None:
    make_customers(engine, "c1", n="text")
    journey_id = make_journey(
        engine, [
            {
                "id": "u",
                "type": "update",
                "config": {"operations": [{"op": "increment", "attribute": "n", "value": 1}]},
            }
        ]
    )
    [eid] = api.post(f"/api/v1/journeys/{journey_id}/enroll", json={"customerId": "c1"}).json()[
        "enrollmentIds"
    ]
    runner.run_due(engine)
    failed = api.get(f"/api/v1/enrollments/{eid}").json()
    assert (failed["status"], failed["stepId"]) == ("failed", "u")
    api.put("/api/v1/customers/c1", json={"attributes": {"n": 1}})
    retried = api.post(f"/api/v1/enrollments/{eid}/retry")
    assert (retried.status_code, retried.json()["status"]) == (200, "active")
    runner.run_due(engine)
    assert api.get(f"/api/v1/enrollments/{eid}").json()["status"] == "completed"
