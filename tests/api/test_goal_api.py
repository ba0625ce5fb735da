"""GET /journeys/{id}/goal and the goal in journey documents over HTTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from engine.clock import VirtualClock
from engine.engine import Engine
from engine.runtime import runner

STEPS: list[dict[str, Any]] = [
    {"id": "ab", "type": "split", "name": "A/B", "config": {"paths": [
        {"label": "A", "percent": 50, "targetStepId": "end_a"},
        {"label": "B", "percent": 50, "targetStepId": "end_b"}]}},
    {"id": "end_a", "type": "exit", "name": "End A"},
    {"id": "end_b", "type": "exit", "name": "End B"},
]
GOAL = {"eventType": "purchase", "withinDays": 7}


def running_journey(engine: Engine, api: TestClient, customers: int) -> str:
    for number in range(customers):
        assert api.post("/api/v1/customers", json={"id": f"c{number}"}).status_code == 201
    journey = api.post("/api/v1/journeys", json={"name": "A/B", "steps": STEPS, "goal": GOAL}).json()
    assert api.put(f"/api/v1/journeys/{journey['id']}", json={"status": "active"}).status_code == 200
    enrolled = api.post(f"/api/v1/journeys/{journey['id']}/enroll",
                        json={"customerIds": [f"c{n}" for n in range(customers)]})
    assert enrolled.status_code == 201 and enrolled.json()["enrolled"] == customers, enrolled.text
    runner.run_due(engine)
    return journey["id"]


def test_goal_answers_conversion_per_branch_and_end(
    engine: Engine, api: TestClient, clock: VirtualClock
) -> None:
    journey_id = running_journey(engine, api, 4)
    bought = (clock.now() + timedelta(days=1)).isoformat()
    assert api.post("/api/v1/events", json={"customerId": "c0", "type": "purchase",
                                           "occurredAt": bought}).status_code in (200, 201, 202)
    response = api.get(f"/api/v1/journeys/{journey_id}/goal")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["goal"] == GOAL and body["journeyId"] == journey_id and body["at"].endswith("Z")
    assert body["overall"] == {"n": 4, "conversions": 1, "rate": 0.25, "open": 4}
    (split,) = body["splits"]
    assert split["stepId"] == "ab" and split["control"] == "A"
    assert [branch["label"] for branch in split["branches"]] == ["A", "B"]
    assert sum(branch["n"] for branch in split["branches"]) == 4
    assert set(split["branches"][1]) == {"label", "n", "conversions", "rate", "open", "difference"}
    assert split["verdict"]["enough"] is False and split["verdict"]["text"].startswith("Not enough data")
    assert {path["label"] for path in body["paths"]} <= {"Exited at End A", "Exited at End B"}
    assert sum(path["n"] for path in body["paths"]) == 4


def test_goal_of_unknown_journey_is_404(api: TestClient) -> None:
    response = api.get("/api/v1/journeys/jrn_nope/goal")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_viewers_may_read_goal_results(engine: Engine, api: TestClient) -> None:
    journey_id = running_journey(engine, api, 1)
    key = api.post("/api/v1/api-keys", json={"name": "look", "role": "viewer"}).json()["key"]
    response = api.get(f"/api/v1/journeys/{journey_id}/goal", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200 and response.json()["overall"]["n"] == 1


def test_a_live_journey_goal_is_changed_and_removed_by_put(engine: Engine, api: TestClient) -> None:
    journey_id = running_journey(engine, api, 1)
    signup = {"eventType": "signup", "withinDays": 3}
    changed = api.put(f"/api/v1/journeys/{journey_id}", json={"goal": signup})
    assert changed.status_code == 200, changed.text
    assert changed.json()["goal"] == signup
    assert changed.json()["version"] == 1
    assert api.get(f"/api/v1/journeys/{journey_id}/goal").json()["goal"]["eventType"] == "signup"
    removed = api.put(f"/api/v1/journeys/{journey_id}", json={"goal": None})
    assert removed.status_code == 200 and removed.json().get("goal") is None
    body = api.get(f"/api/v1/journeys/{journey_id}/goal").json()
    assert body["goal"] is None and body["splits"] == [] and body["overall"] is None


def test_bad_goals_are_422_naming_the_field(engine: Engine, api: TestClient) -> None:
    journey_id = running_journey(engine, api, 1)
    too_long = api.put(f"/api/v1/journeys/{journey_id}", json={"goal": {"eventType": "x", "withinDays": 400}})
    assert too_long.status_code == 422
    assert too_long.json()["error"]["details"]["field"] == "goal.withinDays"
    blank = api.put(f"/api/v1/journeys/{journey_id}", json={"goal": {"eventType": "", "withinDays": 2}})
    assert blank.status_code == 422
    assert blank.json()["error"]["details"]["field"] == "goal.eventType"
