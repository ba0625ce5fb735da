"""Deleting a segment, channel, decision flow or offer that a journey (not archived) still refers to is a
409 listing the journeys; once the journey is archived, or refers to something else, the delete goes on."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

STEPS: list[dict[str, Any]] = [
    {"id": "pick", "type": "decide", "config": {"decisionFlowId": "flow", "storeResultAs": "best"},
     "next": "tag"},
    {"id": "tag", "type": "update",
     "config": {"operations": [{"op": "addSegment", "segmentId": "seg_tagged"}]}, "next": "mail"},
    {"id": "mail", "type": "send", "config": {"channelId": "ch_app", "offerId": "off_tea"}},
]
USED = [("segments", "seg_entry"), ("segments", "seg_tagged"), ("channels", "ch_app"),
        ("decision-flows", "flow"), ("offers", "off_tea")]


@pytest.fixture
def journey(api: TestClient) -> str:
    for path, body in [
        ("segments", {"id": "seg_entry", "name": "Entry", "static": True}),
        ("segments", {"id": "seg_tagged", "name": "Tagged", "static": True}),
        ("segments", {"id": "seg_free", "name": "Free", "static": True}),
        ("channels", {"id": "ch_app", "name": "App", "type": "in_app"}),
        ("offers", {"id": "off_tea", "name": "Tea"}),
        ("decision-flows", {"id": "flow", "name": "Flow", "categories": ["drinks"]}),
    ]:
        assert api.post(f"/api/v1/{path}", json=body).status_code == 201
    document = {"name": "Welcome", "entryConditions": {"segmentId": "seg_entry"}, "steps": STEPS}
    created = api.post("/api/v1/journeys", json=document)
    assert created.status_code == 201
    return created.json()["id"]


@pytest.mark.parametrize(("path", "ref_id"), USED)
def test_deleting_what_a_journey_uses_is_409_listing_the_journeys(api: TestClient, journey: str, path: str,
                                                                  ref_id: str) -> None:
    response = api.delete(f"/api/v1/{path}/{ref_id}")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "in_use"
    assert error["details"]["journeys"] == [{"id": journey, "name": "Welcome", "status": "draft"}]
    assert "Welcome" in error["message"]
    assert api.get(f"/api/v1/{path}/{ref_id}").status_code == 200


def test_an_offer_listed_by_a_flow_and_sent_by_a_journey_names_both(api: TestClient, journey: str) -> None:
    assert api.post("/api/v1/decision-flows", json={"id": "teas", "name": "Teas", "offerIds": ["off_tea"]}
                    ).status_code == 201
    details = api.delete("/api/v1/offers/off_tea").json()["error"]["details"]
    assert details == {"journeys": [{"id": journey, "name": "Welcome", "status": "draft"}],
                       "decisionFlows": ["teas"]}


def test_what_no_journey_uses_is_deleted(api: TestClient, journey: str) -> None:
    assert api.delete("/api/v1/segments/seg_free").status_code == 204


def test_an_archived_journey_no_longer_holds_its_references(api: TestClient, journey: str) -> None:
    assert api.put(f"/api/v1/journeys/{journey}", json={"status": "archived"}).status_code == 200
    for path, ref_id in USED:
        assert api.delete(f"/api/v1/{path}/{ref_id}").status_code == 204, (path, ref_id)
