"""POST /recommend: ranked offers with factors and a trace; unknown customer or flow is 404."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def catalogue(api: TestClient) -> TestClient:
    api.post("/api/v1/customers", json={"id": "c1", "attributes": {"age": 16}})
    api.post("/api/v1/offers", json={"id": "beer", "name": "Beer", "eligibility": "customer.age >= 18",
                                     "propensity": 0.9})
    api.post("/api/v1/offers", json={"id": "tea", "name": "Tea", "propensity": 0.3, "businessValue": 2})
    api.post("/api/v1/offers", json={"id": "juice", "name": "Juice", "propensity": 0.6})
    api.post("/api/v1/decision-flows", json={"id": "drinks", "name": "Drinks",
                                             "offerIds": ["beer", "tea", "juice"], "maxOffers": 3})
    return api


def test_recommend_ranks_and_traces(catalogue: TestClient) -> None:
    response = catalogue.post("/api/v1/recommend", json={"customerId": "c1", "decisionFlowId": "drinks"})
    assert response.status_code == 200
    body = response.json()
    # tea: 0.3 * 1 * (2/2) * 1 = 0.3; juice: 0.6 * 1 * (1/2) * 1 = 0.3 → tie, same priority → id order.
    assert [(o["offerId"], round(o["score"], 6)) for o in body["offers"]] == [("juice", 0.3), ("tea", 0.3)]
    assert body["offers"][0]["factors"] == {"propensity": 0.6, "relevance": 1.0, "impact": 0.5,
                                            "emphasis": 1.0}
    assert body["trace"] == [{"offerId": "beer", "rule": "eligibility",
                              "reason": "false: customer.age >= 18"}]

    limited = catalogue.post("/api/v1/recommend", json={"customerId": "c1", "decisionFlowId": "drinks",
                                                        "limit": 1}).json()
    assert [o["offerId"] for o in limited["offers"]] == ["juice"]


def test_recommend_unknown_ids_are_404(catalogue: TestClient) -> None:
    assert catalogue.post("/api/v1/recommend", json={"customerId": "ghost", "decisionFlowId": "drinks"}
                          ).status_code == 404
    assert catalogue.post("/api/v1/recommend", json={"customerId": "c1", "decisionFlowId": "ghost"}
                          ).status_code == 404
    assert catalogue.post("/api/v1/recommend", json={"customerId": "c1"}).status_code == 422
