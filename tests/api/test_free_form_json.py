"""Free-form JSON (attributes, flags, event properties, import rows, update values, simulated customers) is
checked once at the API edge: integers fit 64-bit signed, numbers are finite, size and depth bounded; a
422 names the field. Rows stored before that check still read back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from nicegui.json import NiceGUIJSONResponse

from engine.engine import Engine
from models.audience import Customer
from models.common import INT64_MAX, INT64_MIN
from models.journey import Journey
from ui import api as api_package

BIG = 2**64
TOO_DEEP: Any = {}
for _ in range(40):
    TOO_DEEP = {"x": TOO_DEEP}


def invalid_field(response: Any) -> str:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid"
    return error["details"]["field"]


def raw(client: TestClient, method: str, url: str, text: str) -> Any:
    """Send `text` as the JSON body as it is (NaN and 1e400 cannot come from json= of a Python dict)."""
    return client.request(method, url, content=text.encode(), headers={"content-type": "application/json"})


@pytest.fixture
def customer(api: TestClient) -> str:
    assert api.post("/api/v1/customers", json={"id": "c1", "attributes": {"age": 30}}).status_code == 201
    return "c1"


@pytest.mark.parametrize("value", [BIG, INT64_MAX + 1, INT64_MIN - 1, -BIG])
def test_an_integer_past_64_bits_is_refused_and_reads_keep_working(api: TestClient, customer: str,
                                                                    value: int) -> None:
    response = api.patch(f"/api/v1/customers/{customer}", json={"attributes": {"n": value}})
    assert invalid_field(response) == "attributes"
    assert "n" in response.json()["error"]["message"]
    assert api.get("/api/v1/customers").status_code == 200
    assert "n" not in api.get(f"/api/v1/customers/{customer}").json()["attributes"]


def test_64_bit_integers_at_the_edges_are_stored(api: TestClient, customer: str) -> None:
    edges = {"attributes": {"lo": INT64_MIN, "hi": INT64_MAX}}
    patched = api.patch(f"/api/v1/customers/{customer}", json=edges)
    assert patched.status_code == 200, patched.text
    assert patched.json()["attributes"]["hi"] == INT64_MAX


@pytest.mark.parametrize("value", [2.0**63, -9.3e18, 1e300, [-1e300]])
def test_a_float_past_64_bits_is_refused_naming_the_field(api: TestClient, customer: str, value: Any) -> None:
    # JSON cannot tell 1e19 from 10000000000000000000: floats share the integers' 64-bit bound.
    response = api.patch(f"/api/v1/customers/{customer}", json={"flags": {"n": value}})
    assert invalid_field(response) == "flags"
    assert "n" in response.json()["error"]["message"]
    assert "n" not in api.get(f"/api/v1/customers/{customer}").json()["flags"]


def test_floats_inside_64_bits_are_stored(api: TestClient, customer: str) -> None:
    edges = {"flags": {"lo": -(2.0**63), "hi": 9.2e18, "half": 0.5}}
    patched = api.patch(f"/api/v1/customers/{customer}", json=edges)
    assert patched.status_code == 200, patched.text
    assert patched.json()["flags"] == edges["flags"]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_are_refused_not_stored_as_null(api: TestClient, customer: str,
                                                           number: str) -> None:
    response = raw(api, "PATCH", f"/api/v1/customers/{customer}", f'{{"attributes": {{"x": {number}}}}}')
    assert invalid_field(response) == "attributes"
    assert "x" not in api.get(f"/api/v1/customers/{customer}").json()["attributes"]


def test_size_and_depth_are_bounded(api: TestClient, customer: str, engine: Engine) -> None:
    limit = engine.settings.json_max_bytes
    assert invalid_field(api.post("/api/v1/customers", json={"attributes": {"blob": "x" * limit}})) \
        == "attributes"
    assert api.post("/api/v1/customers", json={"attributes": {"blob": "x" * (limit - 20)}}).status_code == 201
    assert invalid_field(api.patch(f"/api/v1/customers/{customer}", json={"flags": TOO_DEEP})) == "flags"


def test_event_properties_are_checked_single_and_in_a_batch(api: TestClient, customer: str) -> None:
    single = {"customerId": customer, "type": "buy", "properties": {"n": BIG}}
    assert invalid_field(api.post("/api/v1/events", json=single)) == "properties"
    batch = {"events": [{"customerId": customer, "type": "buy"}, single]}
    assert invalid_field(api.post("/api/v1/events", json=batch)) == "events.1.properties"
    assert invalid_field(api.post("/api/v1/events", json={"events": [{"type": "buy"}]})) \
        == "events.0.customerId"
    assert api.get("/api/v1/events").json()["pagination"]["total"] == 0
    assert api.post("/api/v1/events", json={**single, "properties": {"n": 1}}).status_code == 202


def test_import_rows_with_unstorable_values_are_rejected_by_line(api: TestClient) -> None:
    rows = [{"id": "a", "n": 1}, {"id": "b", "n": BIG}, {"id": "c", "attributes": {"deep": TOO_DEEP}}]
    lines = "\n".join(json.dumps(row) for row in rows)
    answer = api.post("/api/v1/customers/import", content=lines.encode(),
                      headers={"content-type": "application/x-ndjson"}).json()
    assert answer["created"] == 1
    assert [row["line"] for row in answer["rejected"]] == [2, 3]
    csv = f"id,n\nd,{BIG}\ne,5\n"
    answer = api.post("/api/v1/customers/import", content=csv.encode(),
                      headers={"content-type": "text/csv"}).json()
    assert (answer["created"], [row["line"] for row in answer["rejected"]]) == (1, [2])
    assert api.get("/api/v1/customers").status_code == 200


def test_update_step_values_and_simulated_customers_are_checked(api: TestClient) -> None:
    operation = {"op": "set", "attribute": "a", "value": BIG}
    step = {"id": "u", "type": "update", "config": {"operations": [operation]}}
    assert invalid_field(api.post("/api/v1/journeys", json={"name": "j", "steps": [step]})) \
        == "steps.0.config.operations.0.value"
    journey = api.post("/api/v1/journeys", json={"name": "j"}).json()["id"]
    assert invalid_field(api.post(f"/api/v1/journeys/{journey}/test",
                                  json={"customerAttributes": {"n": BIG}})) == "customerAttributes"
    assert api.get("/api/v1/journeys").status_code == 200


@pytest.mark.parametrize(("query", "field"), [
    ("offset=9223372036854775808", "offset"), ("offset=-1", "offset"), ("limit=0", "limit"),
    ("limit=201", "limit"), ("limit=99999999999999999999999", "limit")])
@pytest.mark.parametrize("collection", ["customers", "journeys", "events", "deliveries", "offers"])
def test_paging_out_of_bounds_is_422(api: TestClient, collection: str, query: str, field: str) -> None:
    assert invalid_field(api.get(f"/api/v1/{collection}?{query}")) == field


def test_the_largest_offset_answers_an_empty_page(api: TestClient, customer: str) -> None:
    page = api.get(f"/api/v1/customers?offset={INT64_MAX}").json()
    assert page["data"] == [] and page["pagination"]["total"] == 1


def test_explicit_null_for_a_required_field_is_422(api: TestClient) -> None:
    assert api.post("/api/v1/offers", json={"id": "o1", "name": "Offer"}).status_code == 201
    assert api.post("/api/v1/decision-flows", json={"id": "f1", "name": "Flow"}).status_code == 201
    assert api.post("/api/v1/segments", json={"id": "s1", "name": "S", "static": True}).status_code == 201
    for url in ("/api/v1/offers/o1", "/api/v1/decision-flows/f1", "/api/v1/segments/s1"):
        for method in ("PATCH", "PUT"):
            assert invalid_field(api.request(method, url, json={"name": None})) == "name"
        assert api.get(url).json()["name"] != ""
    # A null where the field has a default still resets it.
    assert api.patch("/api/v1/offers/o1", json={"description": None}).json()["description"] == ""


@pytest.fixture
def nicegui_api(engine: Engine, api: TestClient) -> Iterator[TestClient]:
    """The API as main.py serves it: on an app whose default answer is NiceGUI's (orjson) JSON response
    (with the `api` fixture's credentials)."""
    app = FastAPI(default_response_class=NiceGUIJSONResponse)
    api_package.mount(app, engine)
    credentials = {name: value for name, value in api.headers.items() if name.lower() == "authorization"}
    with TestClient(app, raise_server_exceptions=False, headers=credentials) as client:
        yield client


def test_rows_stored_before_the_check_still_read(engine: Engine, nicegui_api: TestClient) -> None:
    moment = engine.now()
    update = {"id": "u", "type": "update",
              "config": {"operations": [{"op": "set", "attribute": "a", "value": BIG}]}}
    with engine.session() as s:
        s.add(Customer(id="old", attributes={"n": BIG, "m": -BIG}, flags={}, created_at=moment,
                       updated_at=moment))
        s.add(Journey(id="jrn_old", name="old", steps=[update], created_at=moment, updated_at=moment))
    listing = nicegui_api.get("/api/v1/customers")
    assert listing.status_code == 200, listing.text
    assert listing.json()["data"][0]["attributes"] == {"n": BIG, "m": -BIG}
    assert nicegui_api.get("/api/v1/customers/old").json()["attributes"]["n"] == BIG
    journeys = nicegui_api.get("/api/v1/journeys")
    assert journeys.status_code == 200, journeys.text
    assert journeys.json()["data"][0]["steps"][0]["config"]["operations"][0]["value"] == BIG
    assert nicegui_api.get("/api/v1/journeys/jrn_old").status_code == 200
    # And the customer can still be fixed through the API.
    fixed = nicegui_api.patch("/api/v1/customers/old", json={"attributes": {"n": None, "m": None}})
    assert fixed.status_code == 200 and fixed.json()["attributes"] == {}
