"""Time zones over the API: a customer's zone attribute and a journey's zone are IANA names or refused with
422 naming the field; a journey shows, versions, exports and validates its zone."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

CUSTOMERS, JOURNEYS = "/api/v1/customers", "/api/v1/journeys"
STEPS = [{"id": "pause", "type": "wait", "config": {"duration": 1, "unit": "days"}}]


def refused(response: Any, field: str) -> str:
    assert response.status_code == 422, response.text
    body = response.json()["error"]
    assert (body["code"], body["details"]["field"]) == ("invalid", field)
    return body["message"]


def test_a_customers_zone_is_an_iana_name_or_the_write_is_refused_naming_it(api: TestClient) -> None:
    message = refused(api.post(CUSTOMERS, json={"id": "c1", "attributes": {"timezone": "Paris"}}),
                      "attributes.timezone")
    assert "'Paris' is not an IANA time zone" in message
    assert api.get(f"{CUSTOMERS}/c1").status_code == 404
    created = api.post(CUSTOMERS, json={"id": "c1", "attributes": {"timezone": "Europe/Paris"}})
    assert created.status_code == 201
    refused(api.patch(f"{CUSTOMERS}/c1", json={"attributes": {"timezone": "UTC+1"}}), "attributes.timezone")
    refused(api.put(f"{CUSTOMERS}/c1", json={"attributes": {"timezone": ["Europe/Paris"]}}),
            "attributes.timezone")
    cleared = api.patch(f"{CUSTOMERS}/c1", json={"attributes": {"timezone": None}})
    assert (cleared.status_code, cleared.json()["attributes"]) == (200, {})


def test_an_import_rejects_only_the_lines_with_a_wrong_zone(api: TestClient) -> None:
    lines = "\n".join(json.dumps(line) for line in (
        {"id": "a", "timezone": "Asia/Tokyo"}, {"id": "b", "timezone": "Tokyo"}, {"id": "c"}))
    result = api.post(f"{CUSTOMERS}/import", content=lines, headers={"Content-Type": "application/x-ndjson"})
    assert result.status_code == 200
    body = result.json()
    assert (body["created"], [line["line"] for line in body["rejected"]]) == (2, [2])
    assert "attributes.timezone: 'Tokyo'" in body["rejected"][0]["reason"]
    assert api.get(f"{CUSTOMERS}/b").status_code == 404


def test_a_journeys_zone_is_shown_changed_versioned_and_refused_when_not_a_zone(api: TestClient) -> None:
    body = {"name": "Zoned", "steps": STEPS}
    refused(api.post(JOURNEYS, json={**body, "timezone": "Europe/Atlantis"}), "timezone")
    refused(api.post(JOURNEYS, json={**body, "timezone": "x" * 65}), "timezone")
    created = api.post(JOURNEYS, json={**body, "timezone": "Europe/Berlin"})
    assert created.status_code == 201
    journey = created.json()
    assert journey["timezone"] == "Europe/Berlin"
    url = f"{JOURNEYS}/{journey['id']}"
    refused(api.put(url, json={"timezone": "Berlin"}), "timezone")
    assert api.get(url).json()["timezone"] == "Europe/Berlin"
    assert api.put(url, json={"status": "active"}).status_code == 200
    locked = api.put(url, json={"timezone": "Asia/Tokyo"})
    assert (locked.status_code, locked.json()["error"]["code"]) == (409, "pause_first")
    assert api.put(url, json={"status": "paused"}).status_code == 200
    moved = api.put(url, json={"timezone": "Asia/Tokyo"}).json()
    assert (moved["timezone"], moved["version"]) == ("Asia/Tokyo", 2)
    versions = api.get(f"{url}/versions").json()["data"]
    assert [v["timezone"] for v in versions] == ["Asia/Tokyo", "Europe/Berlin"]
    # Null: the workspace default again (an answer leaves out what is null).
    assert "timezone" not in api.put(url, json={"timezone": None}).json()
    assert api.get(JOURNEYS).json()["data"][0].get("timezone") is None


def test_export_import_and_duplicate_carry_the_journeys_zone(api: TestClient) -> None:
    journey = api.post(JOURNEYS, json={"name": "Zoned", "steps": STEPS, "timezone": "America/Denver"}).json()
    exported = api.get(f"{JOURNEYS}/{journey['id']}/export").json()
    assert exported["timezone"] == "America/Denver"
    assert api.post(f"{JOURNEYS}/import", json=exported).json()["timezone"] == "America/Denver"
    assert api.post(f"{JOURNEYS}/{journey['id']}/duplicate").json()["timezone"] == "America/Denver"
    refused(api.post(f"{JOURNEYS}/import", json={**exported, "timezone": "Denver"}), "timezone")


def test_validating_a_document_reports_a_zone_that_is_not_an_iana_name(api: TestClient) -> None:
    result = api.post(f"{JOURNEYS}/validate", json={"steps": STEPS, "timezone": "Mars/Olympus"}).json()
    assert result["valid"] is False
    [issue] = [issue for issue in result["issues"] if issue["severity"] == "error"]
    assert issue["code"] == "invalid_timezone" and issue["message"].startswith("timezone: 'Mars/Olympus'")
