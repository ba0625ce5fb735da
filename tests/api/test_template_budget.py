"""A template bomb in an offer's creative fails only its own delivery, with the reason; a test send queued
after it through the same channel is still sent (the dispatcher is not pinned)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from engine.delivery.dispatcher import dispatch_due
from engine.engine import Engine

BOMB = ("{% for a in range(100000) %}{% for b in range(100000) %}{% for c in range(100000) %}"
        "{% endfor %}{% endfor %}{% endfor %}")


@pytest.fixture
def inbox(api: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(engine.settings, "template_time_limit", 0.3)
    assert api.post("/api/v1/customers", json={"id": "ann", "attributes": {"name": "Ann"}}).status_code == 201
    channel = {"id": "inbox", "name": "Inbox", "type": "in_app"}
    assert api.post("/api/v1/channels", json=channel).status_code == 201
    for offer, body in (("bomb", BOMB), ("tea", "Hello {{ customer.name }}")):
        created = api.post("/api/v1/offers", json={"id": offer, "name": offer,
                                                   "creatives": {"in_app": {"subject": "S", "body": body}}})
        assert created.status_code == 201, created.text
    return "inbox"


def test_a_bomb_fails_its_own_test_send_and_the_next_one_is_sent(
    engine: Engine, api: TestClient, inbox: str
) -> None:
    bomb = api.post(f"/api/v1/channels/{inbox}/test", json={"customerId": "ann", "offerId": "bomb"}).json()
    tea = api.post(f"/api/v1/channels/{inbox}/test", json={"customerId": "ann", "offerId": "tea"}).json()
    assert dispatch_due(engine) == 2
    failed = api.get(f"/api/v1/deliveries/{bomb['id']}").json()
    assert failed["status"] == "failed"
    assert "template error in body: rendering took longer than the limit of 0.3 s" in failed["lastError"]
    sent = api.get(f"/api/v1/deliveries/{tea['id']}").json()
    assert (sent["status"], sent["body"]) == ("sent", "Hello Ann")
    # Failed for good: the bomb is not claimed again (a restart would not pin the dispatcher either).
    assert dispatch_due(engine) == 0
