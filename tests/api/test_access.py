"""Accounts through the API: 401 without credentials, keys made by admins (shown once, stored hashed,
revocable) with the role they were given, the users API, and the audit log of who changed what."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.engine import Engine
from models.access import ApiKey
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

JOURNEYS = "/api/v1/journeys"
DRAFT = {
    "name": "Draft",
    "steps": [{"id": "only", "type": "wait", "config": {"duration": 1, "unit": "hours"}}],
}


def key_for(api: TestClient, role: str, name: str | None = None) -> dict[str, Any]:
    response = api.post("/api/v1/api-keys", json={"name": name or f"{role} key", "role": role})
    assert response.status_code == 201, response.text
    return response.json()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def anonymous(api: TestClient) -> TestClient:
    api.headers.pop("Authorization")
    return api


def test_without_credentials_the_api_answers_401_in_the_error_envelope(api: TestClient) -> None:
    assert api.get(JOURNEYS).status_code == 200
    response = anonymous(api).get(JOURNEYS)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header", ["Bearer nope", "Bearer ", "Basic YWRtaW46YWRtaW4=", "Bearer jk_" + "x" * 43]
)
def test_an_unknown_key_or_another_scheme_is_401(api: TestClient, header: str) -> None:
    response = api.get(JOURNEYS, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_a_malformed_body_without_credentials_is_still_401(api: TestClient) -> None:
    response = anonymous(api).post(
        JOURNEYS, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401


def test_a_viewer_key_reads_but_may_not_create(api: TestClient) -> None:
    created = key_for(api, "viewer", "dashboards")
    assert (
        created["key"].startswith("jk_") and created["role"] == "viewer" and created["name"] == "dashboards"
    )
    assert api.get(JOURNEYS, headers=bearer(created["key"])).status_code == 200
    response = api.post(JOURNEYS, json=DRAFT, headers=bearer(created["key"]))
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "forbidden"
    assert error["details"] == {"role": "viewer", "needed": "editor"}
    assert "you are a viewer" in error["message"]


def test_an_editor_may_not_delete_a_draft_an_admin_may(api: TestClient) -> None:
    editor = key_for(api, "editor")["key"]
    draft = api.post(JOURNEYS, json=DRAFT, headers=bearer(editor))
    assert draft.status_code == 201
    url = f"{JOURNEYS}/{draft.json()['id']}"
    assert api.delete(url, headers=bearer(editor)).status_code == 403
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404


def test_an_editor_activates_and_pauses_but_may_not_archive(api: TestClient) -> None:
    editor = bearer(key_for(api, "editor")["key"])
    journey = api.post(
        JOURNEYS, json={**DRAFT, "entryConditions": {"eventType": "signup"}}, headers=editor
    ).json()
    url = f"{JOURNEYS}/{journey['id']}"
    assert api.put(url, json={"status": "active"}, headers=editor).json()["status"] == "active"
    assert api.put(url, json={"status": "paused"}, headers=editor).json()["status"] == "paused"
    refused = api.put(url, json={"status": "archived"}, headers=editor)
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "admins may archive journeys; you are an editor"
    assert api.get(url).json()["status"] == "paused"  # nothing of the refused change stayed
    assert api.put(url, json={"status": "archived"}).json()["status"] == "archived"


def test_keys_are_shown_once_stored_hashed_and_listed_without_the_key(
    engine: Engine, api: TestClient
) -> None:
    created = key_for(api, "editor", "ci")
    listed = api.get("/api/v1/api-keys").json()
    mine = next(item for item in listed["data"] if item["id"] == created["id"])
    assert (
        "key" not in mine
        and mine["prefix"] == created["key"][:10]
        and mine["createdBy"] == "key:JOURNEYS_ADMIN_TOKEN"
    )
    assert listed["pagination"]["total"] == 2  # the bootstrap token's key and this one
    with engine.session() as s:
        row = s.get(ApiKey, created["id"])
        assert row is not None and created["key"] not in (row.digest, row.prefix + row.digest)
        assert len(row.digest) == 64


def test_a_revoked_key_stops_working_at_once(api: TestClient) -> None:
    created = key_for(api, "viewer")
    assert api.get(JOURNEYS, headers=bearer(created["key"])).status_code == 200
    assert api.delete(f"/api/v1/api-keys/{created['id']}").status_code == 204
    assert api.get(JOURNEYS, headers=bearer(created["key"])).status_code == 401
    listed = api.get("/api/v1/api-keys").json()["data"]
    assert next(item for item in listed if item["id"] == created["id"])["revokedAt"]
    assert api.delete("/api/v1/api-keys/key_unknown").status_code == 404


def test_key_bodies_are_checked(api: TestClient) -> None:
    response = api.post("/api/v1/api-keys", json={"name": "x", "role": "owner"})
    assert response.status_code == 422 and response.json()["error"]["details"]["field"] == "role"
    response = api.post("/api/v1/api-keys", json={"name": "", "role": "viewer"})
    assert response.status_code == 422 and response.json()["error"]["details"]["field"] == "name"


def test_me_names_the_caller(api: TestClient) -> None:
    me = api.get("/api/v1/me").json()
    assert (me["kind"], me["name"], me["role"]) == ("key", "JOURNEYS_ADMIN_TOKEN", "admin")
    viewer = key_for(api, "viewer", "grafana")
    assert api.get("/api/v1/me", headers=bearer(viewer["key"])).json()["role"] == "viewer"


# ---- users ----------------------------------------------------------------------------------------------


def test_admins_manage_users(api: TestClient) -> None:
    created = api.post(
        "/api/v1/users",
        json={"email": "Ada@Example.com", "name": "Ada", "role": "editor", "password": "analytical engine"},
    )
    assert created.status_code == 201, created.text
    user = created.json()
    assert user["email"] == "ada@example.com" and user["role"] == "editor" and "password" not in user
    assert "passwordHash" not in user
    listed = api.get("/api/v1/users", params={"search": "ada"}).json()
    assert [item["email"] for item in listed["data"]] == ["ada@example.com"]
    updated = api.put(f"/api/v1/users/{user['id']}", json={"role": "viewer", "active": False})
    assert (updated.json()["role"], updated.json()["active"]) == ("viewer", False)
    assert api.get(f"/api/v1/users/{user['id']}").json()["role"] == "viewer"
    assert api.delete(f"/api/v1/users/{user['id']}").status_code == 204
    assert api.get(f"/api/v1/users/{user['id']}").status_code == 404


def test_user_input_is_checked(api: TestClient) -> None:
    body = {"email": "not-an-address", "role": "viewer", "password": "long enough"}
    response = api.post("/api/v1/users", json=body)
    assert response.status_code == 422 and response.json()["error"]["details"]["field"] == "email"
    response = api.post("/api/v1/users", json={**body, "email": "a@b.c", "password": "short"})
    assert response.status_code == 422 and response.json()["error"]["details"]["field"] == "password"
    response = api.post("/api/v1/users", json={**body, "email": ADMIN_EMAIL.upper()})
    assert response.status_code == 409 and response.json()["error"]["details"] == {"field": "email"}


def test_deactivating_takes_a_boolean_not_a_number(api: TestClient) -> None:
    user = api.post("/api/v1/users", json={"email": "vic@example.com", "role": "viewer",
                                           "password": "long enough"}).json()
    refused = api.put(f"/api/v1/users/{user['id']}", json={"active": 0})
    assert refused.status_code == 422 and refused.json()["error"]["details"]["field"] == "active"
    assert api.get(f"/api/v1/users/{user['id']}").json()["active"] is True


def test_the_last_active_admin_cannot_be_demoted_deactivated_or_deleted(api: TestClient) -> None:
    admin = api.get("/api/v1/users").json()["data"][0]
    assert admin["email"] == ADMIN_EMAIL
    for change in ({"role": "editor"}, {"active": False}):
        response = api.put(f"/api/v1/users/{admin['id']}", json=change)
        assert response.status_code == 409 and response.json()["error"]["code"] == "last_admin"
    assert api.delete(f"/api/v1/users/{admin['id']}").status_code == 409
    api.post("/api/v1/users", json={"email": "two@example.com", "role": "admin", "password": "second admin"})
    assert api.put(f"/api/v1/users/{admin['id']}", json={"role": "editor"}).json()["role"] == "editor"


def test_only_admins_manage_users_keys_and_read_the_audit(api: TestClient) -> None:
    editor = bearer(key_for(api, "editor")["key"])
    for method, url in (
        ("GET", "/api/v1/users"),
        ("POST", "/api/v1/api-keys"),
        ("GET", "/api/v1/audit"),
        ("GET", "/api/v1/api-keys"),
    ):
        assert api.request(method, url, headers=editor, json={}).status_code == 403, url


# ---- audit ----------------------------------------------------------------------------------------------


def test_the_audit_log_says_who_did_what_to_which_journey(api: TestClient) -> None:
    editor = bearer(key_for(api, "editor", "marketing")["key"])
    journey = api.post(
        JOURNEYS, json={**DRAFT, "entryConditions": {"eventType": "signup"}}, headers=editor
    ).json()
    url = f"{JOURNEYS}/{journey['id']}"
    api.put(url, json={"name": "Renamed"}, headers=editor)
    api.put(url, json={"status": "active"}, headers=editor)
    api.put(url, json={"status": "paused"}, headers=editor)
    api.put(url, json={"status": "active"}, headers=editor)
    api.put(url, json={"status": "archived"})
    assert api.delete(url).status_code == 204
    entries = api.get("/api/v1/audit", params={"entityType": "journey", "entityId": journey["id"]}).json()
    seen = [(item["actor"], item["action"]) for item in reversed(entries["data"])]
    assert seen == [
        ("key:marketing", "created"),
        ("key:marketing", "updated"),
        ("key:marketing", "activated"),
        ("key:marketing", "paused"),
        ("key:marketing", "resumed"),
        ("key:JOURNEYS_ADMIN_TOKEN", "archived"),
        ("key:JOURNEYS_ADMIN_TOKEN", "deleted"),
    ]
    updated = entries["data"][-2]
    assert updated["details"] == {"fields": ["name"], "version": 1} and updated["entityName"] == "Renamed"
    assert entries["data"][0]["role"] == "admin" and entries["data"][0]["at"].endswith("Z")
    assert entries["data"][3]["details"] == {"from": "active", "to": "paused"}


def test_the_audit_log_pages_like_every_collection(api: TestClient) -> None:
    for number in range(3):
        api.post(JOURNEYS, json={**DRAFT, "name": f"J{number}"})
    first = api.get("/api/v1/audit", params={"limit": 2}).json()
    assert len(first["data"]) == 2
    assert first["pagination"]["hasMore"] is True and first["pagination"]["total"] >= 3
    rest = api.get("/api/v1/audit", params={"limit": 2, "offset": 2}).json()
    assert {item["id"] for item in first["data"]}.isdisjoint(item["id"] for item in rest["data"])
    assert api.get("/api/v1/audit", params={"limit": 0}).status_code == 422


def test_a_journeys_own_history_is_readable_by_a_viewer(api: TestClient) -> None:
    journey = api.post(JOURNEYS, json=DRAFT).json()
    api.put(f"{JOURNEYS}/{journey['id']}", json={"description": "Why"})
    viewer = bearer(key_for(api, "viewer")["key"])
    history = api.get(f"{JOURNEYS}/{journey['id']}/history", headers=viewer).json()
    assert [item["action"] for item in history["data"]] == ["updated", "created"]
    assert api.get(f"{JOURNEYS}/jrn_nope/history").status_code == 404


def test_keys_and_users_are_audited_without_their_secrets(api: TestClient) -> None:
    created = key_for(api, "viewer", "reports")
    api.delete(f"/api/v1/api-keys/{created['id']}")
    user = api.post(
        "/api/v1/users", json={"email": "b@example.com", "role": "viewer", "password": "12345678"}
    )
    api.put(f"/api/v1/users/{user.json()['id']}", json={"password": "87654321"})
    entries = api.get("/api/v1/audit").json()["data"]
    assert [(item["entityType"], item["action"]) for item in entries[:4]] == [
        ("user", "updated"),
        ("user", "created"),
        ("api_key", "revoked"),
        ("api_key", "created"),
    ]
    assert entries[0]["details"] == {"fields": ["password"]}
    text = str(entries)
    assert created["key"] not in text and "87654321" not in text and "$argon2" not in text


def test_signing_in_is_not_a_change_to_the_user(engine: Engine, api: TestClient) -> None:
    from engine.access import users
    from engine.access.roles import SYSTEM

    assert users.authenticate(engine.as_actor(SYSTEM), ADMIN_EMAIL, ADMIN_PASSWORD) is not None
    entries = api.get("/api/v1/audit", params={"entityType": "user"}).json()["data"]
    assert [(item["actor"], item["action"]) for item in entries] == [("system:system", "created")]
