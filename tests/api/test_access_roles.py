"""Every API route and every role: the route list comes from the app itself, so a route added tomorrow is
checked too. Reads are for viewers, changes for editors, deletes and account management (users, keys,
audit) for admins; without credentials every route but the demo webhook sink answers 401."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from ui import api as api_package

ROLES = ("viewer", "editor", "admin")
PUBLIC = {("POST", "/api/v1/sink/webhook")}
ADMIN_AREAS = ("/api/v1/api-keys", "/api/v1/users", "/api/v1/audit")
COMPUTE_ONLY = {"/api/v1/journeys/validate", "/api/v1/journeys/{journey_id}/validate"}


def expected_role(method: str, path: str) -> str | None:
    """The route class, written out independently of ui/api/auth.py (this is the specification)."""
    if (method, path) in PUBLIC:
        return None
    if path.startswith(ADMIN_AREAS):
        return "admin"
    if method == "GET" or (method == "POST" and path in COMPUTE_ONLY):
        return "viewer"
    return "admin" if method == "DELETE" else "editor"


def api_routes() -> list[tuple[str, str]]:
    """Every method of every route `mount` adds (the routers it includes)."""
    return sorted(
        (method, api_package.PREFIX + route.path)
        for router in api_package.routers()
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods - {"HEAD"}
    )


ROUTES = api_routes()


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "nope_1", path)


@pytest.fixture
def keys(api: TestClient) -> dict[str, dict[str, str]]:
    made = {
        role: api.post("/api/v1/api-keys", json={"name": role, "role": role}).json()["key"]
        for role in ("viewer", "editor")
    }
    return {role: {"Authorization": f"Bearer {key}"} for role, key in made.items()} | {
        "admin": dict(api.headers)
    }


def test_the_route_list_is_the_whole_api() -> None:
    paths = {path for _, path in ROUTES}
    assert len(ROUTES) > 50
    assert {"/api/v1/journeys", "/api/v1/api-keys/{key_id}", "/api/v1/audit", "/api/v1/users"} <= paths


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_each_route_answers_each_role_by_its_class(
    api: TestClient, keys: dict[str, dict[str, str]], method: str, path: str
) -> None:
    needed = expected_role(method, path)
    url = concrete(path)
    anonymous = api.request(method, url, json={}, headers={"Authorization": ""})
    if needed is None:
        assert anonymous.status_code not in (401, 403)
        return
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.json()["error"]["code"] == "unauthorized"
    for role in ROLES:
        response = api.request(method, url, json={}, headers=keys[role])
        if ROLES.index(role) < ROLES.index(needed):
            assert response.status_code == 403, (role, response.text)
            assert response.json()["error"]["details"] == {"role": role, "needed": needed}
        else:
            assert response.status_code not in (401, 403), (role, response.text)
