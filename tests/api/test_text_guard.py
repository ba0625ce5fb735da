"""Text holding a NUL character is refused with a 422 naming where it was, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ui.api.text_guard import nul_field


def field_of(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    return response.json()["error"]["details"]["field"]


def test_an_event_with_nul_in_its_customer_id_is_refused_naming_the_field(api: TestClient) -> None:
    response = api.post("/api/v1/events", json={"customerId": "c\x001", "type": "login"})
    assert field_of(response) == "customerId"


def test_nul_in_a_nested_value_names_its_path(api: TestClient) -> None:
    body = {"id": "c1", "attributes": {"tags": ["ok", "bad\x00"]}}
    assert field_of(api.post("/api/v1/customers", json=body)) == "attributes.tags.1"


def test_nul_in_a_path_segment_or_query_value_is_refused(api: TestClient) -> None:
    assert field_of(api.get("/api/v1/customers/c%001")) == "path"
    assert field_of(api.get("/api/v1/journeys", params={"search": "a\x00"})) == "search"


def test_nul_in_an_uploaded_csv_is_refused(api: TestClient) -> None:
    response = api.post("/api/v1/customers/import", content=b"id,name\nc1,A\x00n\n",
                        headers={"Content-Type": "text/csv"})
    assert field_of(response) == "body"


def test_text_without_nul_passes_through_untouched(api: TestClient) -> None:
    assert api.post("/api/v1/customers", json={"id": "c1", "attributes": {"name": "Ann"}}).status_code == 201
    assert api.get("/api/v1/customers/c1").json()["attributes"] == {"name": "Ann"}


def test_keys_are_checked_like_values() -> None:
    assert nul_field({"a": {"b\x00": 1}}) == "a.b\x00"
    assert nul_field({"a": [1, 2.5, None, True]}) is None
