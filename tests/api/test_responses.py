"""POST /respond and GET /responses."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from engine.engine import Engine
from tests.delivery_kit import queue, seed_customer, seed_offer


@pytest.fixture(autouse=True)
def _audience(engine: Engine, api: TestClient) -> None:
    seed_customer(engine, "cus_ann")
    seed_offer(engine, "off_tea")


def test_respond_to_a_delivery_answers_201_with_the_stored_response(engine: Engine, api: TestClient) -> None:
    queued = queue(engine, enrollment_id="enr_1")
    response = api.post("/api/v1/respond", json={"deliveryId": queued.id, "outcome": "click"})
    assert response.status_code == 201
    body = response.json()
    assert (body["deliveryId"], body["enrollmentId"], body["outcome"], body["at"]) == (
        queued.id, "enr_1", "click", "2026-01-05T09:00:00.000Z")
    listed = api.get("/api/v1/responses", params={"enrollmentId": "enr_1"}).json()
    assert [item["id"] for item in listed["data"]] == [body["id"]]


def test_respond_by_customer_and_offer(engine: Engine, api: TestClient) -> None:
    queued = queue(engine)
    body = api.post("/api/v1/respond", json={"customerId": "cus_ann", "offerId": "off_tea",
                                             "outcome": "conversion"}).json()
    assert (body["deliveryId"], body["outcome"]) == (queued.id, "conversion")


def test_unknown_outcome_is_422_naming_outcome(engine: Engine, api: TestClient) -> None:
    response = api.post("/api/v1/respond", json={"deliveryId": queue(engine).id, "outcome": "purchase"})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == "outcome"


@pytest.mark.parametrize(("body", "status"), [
    ({"deliveryId": "dlv_nope", "outcome": "click"}, 404),
    ({"customerId": "cus_nope", "offerId": "off_tea", "outcome": "click"}, 404),
    ({"customerId": "cus_ann", "outcome": "click"}, 422),
    ({"deliveryId": "x", "outcome": "click", "extra": 1}, 422),
    ({"deliveryId": "x"}, 422),
])
def test_bad_respond_bodies(api: TestClient, body: dict[str, object], status: int) -> None:
    response = api.post("/api/v1/respond", json=body)
    assert response.status_code == status
    assert "error" in response.json()
