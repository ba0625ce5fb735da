"""The OpenAPI document states the rules the API enforces: a body the API refuses with a 422 is one its
published request schema refuses too (strict booleans and numbers, 64-bit bounds, non-empty expressions,
known channel types, "this or that" bodies), and a body the API accepts is one the schema allows."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema_rs import Draft202012Validator

from models.common import INT64_MAX, INT64_MIN, JsonItem

SPLIT_PATHS = [{"id": "s", "type": "split", "config": {"paths": [{"percent": False}]}}]

REFUSED = [
    ("/api/v1/segments", {"name": "S", "static": 0}, "static"),
    ("/api/v1/segments", {"name": "S", "static": "true"}, "static"),
    ("/api/v1/segments", {"name": "S", "rule": ""}, "rule"),
    ("/api/v1/segments", {"name": "S", "rule": "   "}, "rule"),
    ("/api/v1/segments", {"name": "S", "rule": "true", "static": True}, "body"),
    ("/api/v1/segments", {"name": "S"}, "body"),
    ("/api/v1/offers", {"name": "O", "eligibility": ""}, "eligibility"),
    ("/api/v1/offers", {"name": "O", "propensity": False}, "propensity"),
    ("/api/v1/offers", {"name": "O", "propensity": 1.5}, "propensity"),
    ("/api/v1/offers", {"name": "O", "propensity": ""}, "propensity"),
    ("/api/v1/offers", {"name": "O", "businessValue": True}, "businessValue"),
    ("/api/v1/offers", {"name": "O", "creatives": {"fax": {"body": "x"}}}, "creatives"),
    ("/api/v1/decision-flows", {"name": "F", "weights": {"impact": False}}, "weights.impact"),
    ("/api/v1/decision-flows", {"name": "F", "maxOffers": 0}, "maxOffers"),
    ("/api/v1/decision-flows", {"name": "F", "maxOffers": 2.5}, "maxOffers"),
    ("/api/v1/decision-flows", {"name": "F", "maxOffers": "2"}, "maxOffers"),
    ("/api/v1/decision-flows", {"name": "F", "rules": [""]}, "rules.0"),
    ("/api/v1/decision-flows", {"name": "F", "rules": [{"expression": "true", "relevance": False}]},
     "rules.0.relevance"),
    ("/api/v1/journeys", {"name": "J", "maxDuration": "30"}, "maxDuration"),
    ("/api/v1/journeys", {"name": "J", "maxDuration": True}, "maxDuration"),
    ("/api/v1/journeys", {"name": "J", "entryConditions": {"cooldownHours": False}},
     "entryConditions.cooldownHours"),
    ("/api/v1/journeys", {"name": "J", "steps": SPLIT_PATHS}, "steps.0.config.paths.0.percent"),
    ("/api/v1/customers", {"flags": {"n": -9.3e18}}, "flags"),
    ("/api/v1/customers", {"attributes": {"n": 2**64}}, "attributes"),
    ("/api/v1/customers", {"attributes": {"n": [1e300]}}, "attributes"),
    ("/api/v1/events", {"customerId": "c", "type": "t", "occurredAt": 0}, "occurredAt"),
    ("/api/v1/journeys/jrn_none/enroll", {"customerIds": []}, "body"),
    ("/api/v1/journeys/jrn_none/enroll", {"customerId": None}, "body"),
    ("/api/v1/respond", {"outcome": "click"}, "deliveryId"),
    ("/api/v1/respond", {"customerId": "c1", "outcome": "click"}, "deliveryId"),
]

ACCEPTED = [
    ("/api/v1/segments", {"name": "S", "static": True}),
    ("/api/v1/segments", {"name": "S", "rule": "customer.age > 3", "static": False}),
    ("/api/v1/offers", {"name": "O", "propensity": 1, "eligibility": "true", "businessValue": 2}),
    ("/api/v1/offers", {"name": "O", "propensity": "customer.score", "creatives": {"sms": {"body": "x"}}}),
    ("/api/v1/decision-flows", {"name": "F", "weights": {"impact": 2, "emphasis": 0.5}, "maxOffers": 2}),
    # JSON Schema's integers include 2.0.
    ("/api/v1/decision-flows", {"name": "F", "maxOffers": 2.0}),
    ("/api/v1/journeys", {"name": "J", "maxDuration": 30, "entryConditions": {"cooldownHours": 1}}),
    ("/api/v1/customers", {"attributes": {"hi": INT64_MAX, "lo": INT64_MIN, "f": 9.2e18, "g": -2.0**63}}),
]


def request_schema(api: TestClient, path: str) -> Draft202012Validator:
    """A validator for the POST body of `path` (its `{...}` segments matched by shape) as published."""
    document = api.get("/openapi.json").json()
    parts = path.split("/")
    for template, operations in document["paths"].items():
        pieces = template.split("/")
        if len(pieces) == len(parts) and all(
                a == b or a.startswith("{") for a, b in zip(pieces, parts, strict=True)):
            schema = operations["post"]["requestBody"]["content"]["application/json"]["schema"]
            # The document is the root resource, so its "#/components/..." references resolve.
            return Draft202012Validator({**document, **schema})
    raise AssertionError(f"no operation for {path}")


@pytest.mark.parametrize(("path", "body", "field"), REFUSED)
def test_a_body_the_api_refuses_is_one_its_schema_refuses(api: TestClient, path: str, body: dict[str, Any],
                                                          field: str) -> None:
    response = api.post(path, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["field"] == field
    assert not request_schema(api, path).is_valid(body)


@pytest.mark.parametrize(("path", "body"), ACCEPTED)
def test_a_body_the_api_accepts_is_one_its_schema_allows(api: TestClient, path: str,
                                                         body: dict[str, Any]) -> None:
    assert request_schema(api, path).is_valid(body)
    response = api.post(path, json=body)
    assert response.status_code == 201, response.text


def test_the_64_bit_bounds_reach_the_document_exactly(api: TestClient) -> None:
    # FastAPI keeps bounds as floats: 2^63 - 1 would round up to 2^63 and admit it, so the upper bound is
    # stated as an exclusive 2^63 (exact as a float); a validator working in floats then agrees too.
    item = api.get("/openapi.json").json()["components"]["schemas"][JsonItem.__name__]
    numbers = [branch for branch in item["anyOf"] if branch.get("type") in ("integer", "number")]
    assert numbers and all((branch["minimum"], branch["exclusiveMaximum"]) == (INT64_MIN, INT64_MAX + 1)
                           and "maximum" not in branch for branch in numbers)
