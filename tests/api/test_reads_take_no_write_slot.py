"""Every GET of the API reads through the reader session: on SQLite it never queues for the write lock, so
reads keep answering however many writers wait (read routes on the writer session failed under load)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from engine.delivery.dispatcher import dispatch_due
from engine.engine import Engine
from engine.runtime import runner


@pytest.fixture
def ids(engine: Engine, api: TestClient) -> dict[str, str]:
    """One of everything a GET route can name, with a sent delivery, a response and an event."""
    api.post("/api/v1/customers", json={"id": "cus_1", "attributes": {"firstName": "Ann", "age": 25}})
    api.post("/api/v1/segments", json={"id": "young", "name": "Young", "rule": "customer.age < 30"})
    channel = api.post("/api/v1/channels", json={"name": "In-app", "type": "in_app"}).json()["id"]
    api.post("/api/v1/offers", json={"id": "off_1", "name": "Ten off",
                                     "creatives": {"in_app": {"subject": "Hi", "body": "Ten off"}}})
    flow = api.post("/api/v1/decision-flows", json={"name": "Pick", "offerIds": ["off_1"]}).json()["id"]
    steps = [{"id": "hello", "type": "send",
              "config": {"channelId": channel, "template": {"subject": "Hi", "body": "Hello"}}}]
    journey = api.post("/api/v1/journeys", json={"name": "Hello", "steps": steps}).json()["id"]
    assert api.put(f"/api/v1/journeys/{journey}", json={"status": "active"}).status_code == 200
    api.post(f"/api/v1/journeys/{journey}/enroll", json={"customerId": "cus_1"})
    runner.run_due(engine)
    dispatch_due(engine)
    delivery = api.get("/api/v1/deliveries").json()["data"][0]["id"]
    enrollment = api.get("/api/v1/enrollments").json()["data"][0]["id"]
    api.post("/api/v1/events", json={"customerId": "cus_1", "type": "purchase"})
    user = api.get("/api/v1/users").json()["data"][0]["id"]
    return {"journey_id": journey, "channel_id": channel, "customer_id": "cus_1", "flow_id": flow,
            "delivery_id": delivery, "enrollment_id": enrollment, "offer_id": "off_1", "segment_id": "young",
            "user_id": user}


def test_every_get_route_answers_without_taking_the_write_slot(
        api: TestClient, engine: Engine, ids: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    if engine.db.lane is None:
        pytest.skip("only SQLite has a writer lane (PostgreSQL readers and writers never block each other)")
    paths = [path for path, operations in api.get("/openapi.json").json()["paths"].items()
             if "get" in operations]
    assert len(paths) > 30
    writers: list[str] = []
    lane = engine.db.lane
    enter = lane.enter
    current = {"path": ""}

    def counting() -> None:
        writers.append(current["path"])
        enter()

    monkeypatch.setattr(lane, "enter", counting)
    for path in paths:
        concrete = path.format(**ids)
        current["path"] = path
        answer = api.get(concrete)
        assert answer.status_code < 500, (path, answer.text)
    assert not writers, f"GET routes that took the write slot: {sorted(set(writers))}"
