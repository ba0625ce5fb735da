"""The must-show of issue 13 over HTTP: a journey whose only step sends a message of its own (no offer)
validates, activates, and the enrolled customer's in-app inbox holds the rendered text."""

from __future__ import annotations

from fastapi.testclient import TestClient

from engine.delivery.dispatcher import dispatch_due
from engine.engine import Engine
from engine.runtime import runner

HELLO = {"subject": "Hi", "body": "Hello {{ customer.firstName }}"}


def test_a_message_only_journey_activates_and_delivers_the_rendered_message(
    engine: Engine, api: TestClient
) -> None:
    channel = api.post("/api/v1/channels", json={"name": "In-app", "type": "in_app"})
    assert channel.status_code == 201
    channel_id = channel.json()["id"]
    customer = api.post("/api/v1/customers", json={"id": "cus_ann", "attributes": {"firstName": "Ann"}})
    assert customer.status_code == 201
    step = {"id": "hello", "type": "send", "name": "Say hello",
            "config": {"channelId": channel_id, "template": HELLO}}
    created = api.post("/api/v1/journeys", json={"name": "Hello", "steps": [step]})
    assert created.status_code == 201
    journey = created.json()
    verdict = api.post(f"/api/v1/journeys/{journey['id']}/validate").json()
    # Only the advice that customers enter by hand (no entry segment or event): no error.
    assert (verdict["valid"], [issue["code"] for issue in verdict["issues"]]) == (True, ["no_entry_trigger"])
    activated = api.put(f"/api/v1/journeys/{journey['id']}", json={"status": "active"},
                        headers={"If-Match": f'"{journey["revision"]}"'})
    assert activated.status_code == 200, activated.text
    enrolled = api.post(f"/api/v1/journeys/{journey['id']}/enroll", json={"customerId": "cus_ann"})
    assert enrolled.json()["enrolled"] == 1
    runner.run_due(engine)
    assert dispatch_due(engine) == 1
    [message] = api.get("/api/v1/customers/cus_ann/inbox").json()["data"]
    assert (message["subject"], message["body"], message["offerId"]) == ("Hi", "Hello Ann", None)
    [delivery] = api.get("/api/v1/deliveries", params={"journeyId": journey["id"]}).json()["data"]
    assert (delivery["status"], delivery["offerId"], delivery["stepId"]) == ("sent", None, "hello")


def test_a_message_with_a_broken_template_keeps_the_journey_from_activating(api: TestClient) -> None:
    channel_id = api.post("/api/v1/channels", json={"name": "In-app", "type": "in_app"}).json()["id"]
    step = {"id": "hello", "type": "send", "config": {"channelId": channel_id, "template": {"body": "{{ x"}}}
    journey = api.post("/api/v1/journeys", json={"name": "Hello", "steps": [step]}).json()
    issues = api.post(f"/api/v1/journeys/{journey['id']}/validate").json()["issues"]
    [error] = [issue for issue in issues if issue["severity"] == "error"]
    assert (error["code"], error["stepId"]) == ("invalid_template", "hello")
    refused = api.put(f"/api/v1/journeys/{journey['id']}", json={"status": "active"})
    assert refused.status_code == 409
    assert api.get(f"/api/v1/journeys/{journey['id']}").json()["status"] == "draft"
