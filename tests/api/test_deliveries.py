"""The outbox over HTTP: list with filters, one delivery with its attempts, the in-app inbox."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from engine.clock import VirtualClock
from engine.delivery.dispatcher import dispatch_due
from engine.engine import Engine
from tests.delivery_kit import http_config, http_receiver, queue, seed_channel, seed_customer, seed_offer

ITEM_KEYS = {"id", "customerId", "channelId", "offerId", "journeyId", "enrollmentId", "stepId", "status",
             "attempts", "lastError", "createdAt", "sentAt", "nextAttemptAt"}


@pytest.fixture(autouse=True)
def _audience(engine: Engine, api: TestClient) -> None:
    seed_customer(engine, "cus_ann")
    seed_customer(engine, "cus_bob", name="Bob")
    creative = {"subject": "For {{ customer.name }}", "body": "{{ offer.name }}"}
    seed_offer(engine, "off_tea", creatives={"in_app": creative})
    seed_channel(engine, "ch_inapp", "in_app", {})


def test_list_filters_by_customer_channel_status_and_journey(
    engine: Engine, api: TestClient, clock: VirtualClock
) -> None:
    first = queue(engine, "a", channel_id="ch_inapp", journey_id="jrn_1")
    clock.advance(seconds=1)
    queue(engine, "b", channel_id="ch_other", customer_id="cus_bob", journey_id="jrn_2")
    clock.advance(seconds=1)
    third = queue(engine, "c", channel_id="ch_inapp", customer_id="cus_bob", journey_id="jrn_1")
    dispatch_due(engine)
    everything = api.get("/api/v1/deliveries").json()
    assert everything["pagination"]["total"] == 3
    assert set(everything["data"][0]) == ITEM_KEYS

    def ids(**params: str) -> list[str]:
        return [item["id"] for item in api.get("/api/v1/deliveries", params=params).json()["data"]]

    assert ids(journeyId="jrn_1") == [third.id, first.id]
    assert ids(customerId="cus_ann") == [first.id]
    assert ids(channelId="ch_inapp", status="sent") == [third.id, first.id]
    assert len(ids(status="failed")) == 1
    bad = api.get("/api/v1/deliveries", params={"status": "lost"})
    assert (bad.status_code, bad.json()["error"]["details"]["field"]) == (422, "status")
    page = api.get("/api/v1/deliveries", params={"limit": 1, "offset": 1}).json()
    assert page["pagination"] == {"total": 3, "limit": 1, "offset": 1, "hasMore": True}


def test_one_delivery_shows_every_attempt_and_the_rendered_message(engine: Engine, api: TestClient,
                                                                   clock: VirtualClock) -> None:
    with http_receiver(engine, statuses=[500]) as receiver:
        seed_channel(engine, "ch_hook", "webhook", http_config(receiver.url))
        queued = queue(engine, "enr_1:send1:1", channel_id="ch_hook", template={"subject": "S", "body": "B"})
        dispatch_due(engine)
        clock.advance(seconds=1)
        dispatch_due(engine)
    answer = api.get(f"/api/v1/deliveries/{queued.id}").json()
    assert (answer["status"], answer["attempts"], answer["sentAt"]) == ("sent", 2, "2026-01-05T09:00:01.000Z")
    assert (answer["idempotencyKey"], answer["subject"], answer["body"]) == ("enr_1:send1:1", "S", "B")
    assert answer["attemptLog"] == [
        {"at": "2026-01-05T09:00:00.000Z", "ok": False, "error": "HTTP 500 Internal Server Error"},
        {"at": "2026-01-05T09:00:01.000Z", "ok": True, "error": None},
    ]
    assert api.get("/api/v1/deliveries/dlv_nope").status_code == 404


def test_in_app_inbox_is_readable_through_the_api(
    engine: Engine, api: TestClient, clock: VirtualClock
) -> None:
    first = queue(engine, "a", channel_id="ch_inapp")
    dispatch_due(engine)
    clock.advance(minutes=1)
    second = queue(engine, "b", channel_id="ch_inapp", template={"body": "Second for {{ customer.name }}"})
    queue(engine, "c", channel_id="ch_inapp", customer_id="cus_bob")
    dispatch_due(engine)
    inbox = api.get("/api/v1/customers/cus_ann/inbox").json()
    assert inbox["pagination"]["total"] == 2
    assert [(m["deliveryId"], m["subject"], m["body"]) for m in inbox["data"]] == [
        (second.id, "For Ann", "Second for Ann"), (first.id, "For Ann", "Green tea")]
    assert inbox["data"][0]["readAt"] is None
    assert api.get("/api/v1/customers/cus_nope/inbox").status_code == 404
    assert api.get("/api/v1/customers/cus_ann/inbox", params={"limit": 500}).status_code == 422


def test_reading_an_inbox_message_marks_it_read_and_records_one_impression(engine: Engine, api: TestClient,
                                                                           clock: VirtualClock) -> None:
    queued = queue(engine, "a", channel_id="ch_inapp", enrollment_id="enr_1")
    dispatch_due(engine)
    [message] = api.get("/api/v1/customers/cus_ann/inbox").json()["data"]
    clock.advance(minutes=3)
    read = api.post(f"/api/v1/customers/cus_ann/inbox/{message['id']}/read")
    assert (read.status_code, read.json()["readAt"]) == (200, "2026-01-05T09:03:00.000Z")
    clock.advance(minutes=1)
    again = api.post(f"/api/v1/customers/cus_ann/inbox/{message['id']}/read").json()
    assert again["readAt"] == "2026-01-05T09:03:00.000Z"
    impressions = api.get("/api/v1/responses", params={"enrollmentId": "enr_1"}).json()["data"]
    assert [(r["deliveryId"], r["outcome"]) for r in impressions] == [(queued.id, "impression")]
    assert api.post(f"/api/v1/customers/cus_bob/inbox/{message['id']}/read").status_code == 404
