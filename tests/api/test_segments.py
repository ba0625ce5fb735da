"""Segments API: rule and static segments, members envelope, counts, errors."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_rule_segment_members_and_count(api: TestClient) -> None:
    for customer_id, age in (("a", 30), ("b", 10), ("c", 50)):
        api.post("/api/v1/customers", json={"id": customer_id, "attributes": {"age": age}})
    created = api.post("/api/v1/segments",
                       json={"id": "adults", "name": "Adults", "rule": "customer.age >= 18"})
    assert created.status_code == 201
    assert created.json()["memberCount"] == 2

    members = api.get("/api/v1/segments/adults/members", params={"limit": 1}).json()
    assert members["data"][0]["customerId"] == "a"
    assert members["data"][0]["joinedAt"].endswith("Z")
    assert members["pagination"]["hasMore"] is True
    assert api.get("/api/v1/segments/adults/count").json() == {"segmentId": "adults", "count": 2}

    api.put("/api/v1/segments/adults", json={"rule": "customer.age >= 40"})
    assert api.get("/api/v1/segments/adults/count").json()["count"] == 1
    changes = api.get("/api/v1/segments/adults/changes").json()["data"]
    assert changes[0] == {"customerId": "a", "joined": False, "at": changes[0]["at"]}
    assert [s["id"] for s in api.get("/api/v1/segments").json()["data"]] == ["adults"]
    assert api.delete("/api/v1/segments/adults").status_code == 204
    assert api.get("/api/v1/segments/adults").status_code == 404


def test_static_segment_membership(api: TestClient) -> None:
    api.post("/api/v1/customers", json={"id": "a"})
    api.post("/api/v1/segments", json={"id": "vip", "name": "VIP", "static": True})
    added = api.post("/api/v1/segments/vip/members", json={"add": ["a"]})
    assert added.json() == {"added": 1, "removed": 0, "count": 1}
    unknown = api.post("/api/v1/segments/vip/members", json={"add": ["ghost"]})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["details"]["field"] == "add"
    assert api.post("/api/v1/segments/nope/members", json={"add": []}).status_code == 404


def test_invalid_segments_are_422_naming_the_field(api: TestClient) -> None:
    bad_rule = api.post("/api/v1/segments", json={"name": "Bad", "rule": "customer.age >"})
    assert bad_rule.status_code == 422
    assert bad_rule.json()["error"]["details"]["field"] == "rule"
    neither = api.post("/api/v1/segments", json={"name": "Neither"})
    assert neither.status_code == 422
    assert api.get("/api/v1/segments/ghost/members").status_code == 404
