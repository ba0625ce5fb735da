"""DELETE /customers/{id} erases the customer: one created again under the id reads no old events,
enrollments, deliveries or inbox messages, and what was queued for the old one is never sent."""

from __future__ import annotations

from fastapi.testclient import TestClient

from engine.clock import VirtualClock
from engine.delivery import dispatcher
from engine.engine import Engine
from engine.runtime import runner
from tests.delivery_kit import seed_channel, seed_offer
from tests.engine.test_customer_erasure import STEPS
from tests.engine.test_runtime import make_journey


def test_a_customer_created_again_after_a_delete_reads_nothing_of_the_old_one(
        engine: Engine, api: TestClient, clock: VirtualClock) -> None:
    seed_channel(engine, "ch_app", "in_app", {})
    seed_offer(engine, "off_tea",
               creatives={"in_app": {"subject": "Tea, {{ customer.name }}?", "body": "Ten off"}})
    journey_id = make_journey(engine, STEPS, name="Welcome")
    assert api.post("/api/v1/customers", json={"id": "ann", "attributes": {"name": "Ann"}}).status_code == 201
    assert api.post("/api/v1/events", json={"customerId": "ann", "type": "login"}).status_code == 202
    assert api.post(f"/api/v1/journeys/{journey_id}/enroll", json={"customerId": "ann"}).status_code == 201
    runner.run_due(engine)
    dispatcher.dispatch_due(engine)
    clock.advance(days=1)
    runner.run_due(engine)  # the reminder is queued, not sent

    assert api.delete("/api/v1/customers/ann").status_code == 204
    assert api.post("/api/v1/customers", json={"id": "ann"}).status_code == 201
    dispatcher.dispatch_due(engine)
    for path in ("/api/v1/events", "/api/v1/deliveries", "/api/v1/enrollments", "/api/v1/responses",
                 "/api/v1/customers/ann/inbox"):
        answer = api.get(path, params={"customerId": "ann"})
        assert (answer.status_code, answer.json()["data"]) == (200, []), path
    assert api.get("/api/v1/customers/ann/journeys").json() == []
    assert api.get("/api/v1/customers/ann/segments").json() == []
    [entry] = api.get("/api/v1/audit", params={"entityType": "customer"}).json()["data"]
    assert (entry["action"], entry["entityId"], entry["details"]["erased"]["cancelledDeliveries"]) == (
        "deleted", "ann", 1)
