"""The issue-9 restart scenario through the API: a journey entered by static segment `vip` with `restart`
whose first step adds the customer to `vip` sends exactly once and keeps every counter at zero or above."""

from __future__ import annotations

from fastapi.testclient import TestClient

from engine.engine import Engine
from engine.runtime import runner


def test_a_step_joining_its_own_restart_segment_delivers_once(engine: Engine, api: TestClient) -> None:
    def created(path: str, body: dict[str, object]) -> dict[str, object]:
        response = api.post(f"/api/v1/{path}", json=body)
        assert response.status_code in (200, 201), response.text
        return response.json()

    created("segments", {"id": "vip", "name": "VIP", "static": True})
    created("channels", {"id": "ch_app", "name": "In-app", "type": "in_app"})
    created("offers", {"id": "off_tea", "name": "Green tea"})
    created("customers", {"id": "c1"})
    journey = created("journeys", {
        "name": "Restart on VIP",
        "entryConditions": {"segmentId": "vip", "reentry": "restart"},
        "steps": [
            {"id": "tag", "type": "update", "next": "hold",
             "config": {"operations": [{"op": "addSegment", "segmentId": "vip"}]}},
            {"id": "hold", "type": "send", "next": "bye",
             "config": {"channelId": "ch_app", "offerId": "off_tea"}},
            {"id": "bye", "type": "exit", "config": {"reason": "done"}},
        ],
    })
    assert api.put(f"/api/v1/journeys/{journey['id']}", json={"status": "active"}).status_code == 200
    assert created(f"journeys/{journey['id']}/enroll", {"customerIds": ["c1"]})["enrolled"] == 1
    runner.run_due(engine)
    runner.run_due(engine)

    deliveries = api.get("/api/v1/deliveries", params={"journey": journey["id"]}).json()["data"]
    assert len(deliveries) == 1
    steps = {step["id"]: (step["current"], step["passed"])
             for step in api.get(f"/api/v1/journeys/{journey['id']}/metrics").json()["steps"]}
    assert steps == {"tag": (0, 1), "hold": (0, 1), "bye": (0, 1)}
    enrollments = api.get("/api/v1/enrollments", params={"journeyId": journey["id"]}).json()["data"]
    assert [(row["status"], row["exitReason"]) for row in enrollments] == [("exited", "done")]
