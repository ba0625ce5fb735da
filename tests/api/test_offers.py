"""Offers and decision flows API: CRUD and 422s naming the field at fault."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

OFFER = {"id": "o1", "name": "Tea", "category": "drinks", "eligibility": "customer.age >= 18",
         "propensity": 0.4, "businessValue": 10, "priority": 2, "startDate": "2026-01-01T00:00:00Z",
         "creatives": {"email": {"subject": "Hi {{ customer.name }}", "body": "Try {{ offer.name }}"}}}


def test_offer_crud(api: TestClient) -> None:
    created = api.post("/api/v1/offers", json=OFFER)
    assert created.status_code == 201
    assert created.json()["startDate"] == "2026-01-01T00:00:00.000Z"
    assert created.json()["creatives"]["email"]["subject"] == "Hi {{ customer.name }}"
    updated = api.patch("/api/v1/offers/o1", json={"status": "inactive", "propensity": "0.5"})
    assert (updated.json()["status"], updated.json()["propensity"]) == ("inactive", "0.5")
    inactive = api.get("/api/v1/offers", params={"status": "inactive"}).json()["data"]
    assert [o["id"] for o in inactive] == ["o1"]
    assert api.delete("/api/v1/offers/o1").status_code == 204
    assert api.get("/api/v1/offers/o1").status_code == 404


@pytest.mark.parametrize(("change", "field"), [
    ({"eligibility": "customer.age >="}, "eligibility"),
    ({"propensity": "customer.score +"}, "propensity"),
    ({"propensity": 1.5}, "propensity"),
    ({"status": "sleeping"}, "status"),
    ({"creatives": {"email": {"body": "{{ customer.name "}}}, "creatives.email.body"),
    ({"creatives": {"fax": {"body": "x"}}}, "creatives"),
    ({"endDate": "2025-01-01T00:00:00Z"}, "endDate"),
])
def test_invalid_offer_is_422_naming_the_field(api: TestClient, change: dict, field: str) -> None:
    response = api.post("/api/v1/offers", json={**OFFER, **change})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == field


def test_decision_flow_crud_and_errors(api: TestClient) -> None:
    api.post("/api/v1/offers", json=OFFER)
    flow = {"id": "f1", "name": "Drinks", "offerIds": ["o1"], "rules": ["customer.age > 1"],
            "contactPolicy": {"maxPerOffer": 2, "windowDays": 7, "maxPerDay": 3},
            "weights": {"propensity": 1, "relevance": 1, "impact": 2, "emphasis": 0}, "maxOffers": 2}
    created = api.post("/api/v1/decision-flows", json=flow)
    assert created.status_code == 201
    assert created.json()["contactPolicy"] == {"maxPerOffer": 2, "windowDays": 7, "maxPerDay": 3}
    assert api.put("/api/v1/decision-flows/f1", json={"maxOffers": 5}).json()["maxOffers"] == 5
    assert api.get("/api/v1/decision-flows").json()["pagination"]["total"] == 1
    assert api.delete("/api/v1/offers/o1").status_code == 409

    for change, field in (({"rules": ["customer.age >"]}, "rules.0"), ({"offerIds": ["ghost"]}, "offerIds"),
                          ({"weights": {"impact": -1}}, "weights.impact"), ({"maxOffers": 11}, "maxOffers")):
        response = api.post("/api/v1/decision-flows", json={**flow, "id": "f2", **change})
        assert response.status_code == 422, change
        assert response.json()["error"]["details"]["field"] == field
    assert api.get("/api/v1/decision-flows/ghost").status_code == 404
    assert api.delete("/api/v1/decision-flows/f1").status_code == 204


def test_search_matches_id_name_or_category_literally(api: TestClient) -> None:
    for offer_id, name, category in [("o1", "Tea 50% off", "drinks"), ("o2", "Tea 5 for 4", "drinks"),
                                     ("o3", "Scarf", "winter_wear"), ("o4", "Gloves", "winterxwear")]:
        assert api.post("/api/v1/offers", json={"id": offer_id, "name": name, "category": category}
                        ).status_code == 201

    def found(search: str) -> list[str]:
        return [offer["id"] for offer in api.get("/api/v1/offers", params={"search": search}).json()["data"]]

    assert found("50%") == ["o1"]
    assert found("winter_") == ["o3"]
    assert found(" TEA ") == ["o2", "o1"]  # by name
    assert found("o4") == ["o4"]
