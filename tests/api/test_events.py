"""Events API: single and batch posts answer 202; unknown customers are 422 naming the item."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_single_and_batch_events(api: TestClient) -> None:
    api.post("/api/v1/customers", json={"id": "c1"})
    single = api.post("/api/v1/events",
                      json={"customerId": "c1", "type": "purchase", "properties": {"sum": 9}})
    assert single.status_code == 202
    assert single.json()["accepted"] == 1
    batch = api.post("/api/v1/events", json={"events": [
        {"customerId": "c1", "type": "click", "occurredAt": "2026-01-01T10:00:00+01:00"},
        {"customerId": "c1", "type": "click"}]})
    assert batch.status_code == 202
    assert batch.json()["accepted"] == 2
    assert len(batch.json()["ids"]) == 2

    clicks = api.get("/api/v1/events", params={"customerId": "c1", "type": "click"}).json()
    assert clicks["pagination"]["total"] == 2
    assert clicks["data"][-1]["occurredAt"] == "2026-01-01T09:00:00.000Z"


def test_bad_events_are_422(api: TestClient) -> None:
    api.post("/api/v1/customers", json={"id": "c1"})
    ghost = api.post("/api/v1/events", json={"events": [{"customerId": "c1", "type": "a"},
                                                        {"customerId": "ghost", "type": "a"}]})
    assert ghost.status_code == 422
    assert ghost.json()["error"]["details"]["field"] == "events.1.customerId"
    single_ghost = api.post("/api/v1/events", json={"customerId": "ghost", "type": "a"})
    assert single_ghost.json()["error"]["details"]["field"] == "customerId"
    no_type = api.post("/api/v1/events", json={"customerId": "c1"})
    assert no_type.status_code == 422
    assert no_type.json()["error"]["details"]["field"] == "type"
    too_many = api.post("/api/v1/events", json={"events": [{"customerId": "c1", "type": "a"}] * 1001})
    assert too_many.status_code == 422
    assert api.get("/api/v1/events").json()["pagination"]["total"] == 0
