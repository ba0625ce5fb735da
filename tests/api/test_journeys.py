"""The journeys API: every lifecycle transition and edit rule, the list envelope and pagination, aliases,
versions, export/import and duplicate."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

URL = "/api/v1/journeys"
STEPS = [
    {
        "id": "greet",
        "type": "update",
        "config": {"operations": [{"op": "set", "attribute": "stage", "value": "new"}]},
        "next": "pause",
        "position": {"x": 10, "y": 20},
    },
    {"id": "pause", "type": "wait", "config": {"duration": 3, "unit": "days"}, "next": "check"},
    {
        "id": "check",
        "type": "branch",
        "config": {
            "conditions": [{"label": "adult", "expression": "customer.age >= 18", "targetStepId": "done"}],
            "defaultStepId": "done",
        },
    },
    {"id": "done", "type": "exit", "config": {"reason": "finished"}},
]
OTHER_STEPS = [{"id": "only", "type": "wait", "config": {"duration": 1, "unit": "hours"}}]


def create(api: TestClient, **fields: Any) -> dict[str, Any]:
    body = {"name": "Onboarding", "entryConditions": {"eventType": "signup"}, "steps": STEPS, **fields}
    response = api.post(URL, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def put(api: TestClient, journey_id: str, **body: Any) -> Any:
    return api.put(f"{URL}/{journey_id}", json=body)


def in_status(api: TestClient, status: str) -> str:
    """A journey brought to `status` through allowed transitions."""
    journey_id = create(api)["id"]
    path = {"draft": [], "active": ["active"], "paused": ["active", "paused"], "archived": ["archived"]}[
        status
    ]
    for step in path:
        assert put(api, journey_id, status=step).status_code == 200
    return journey_id


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["code"] == code
    assert body["message"]
    return body


# ---- create / read ----------------------------------------------------------------------------------------


def test_create_answers_201_with_a_draft_at_version_1(api: TestClient) -> None:
    journey = create(api, description="first days")
    assert journey["id"].startswith("jrn_")
    assert (journey["status"], journey["version"], journey["maxDuration"]) == ("draft", 1, 30)
    assert journey["createdAt"] == journey["updatedAt"] == "2026-01-05T09:00:00.000Z"
    assert journey["steps"][0]["config"]["operations"][0] == {
        "op": "set",
        "attribute": "stage",
        "value": "new",
    }
    assert api.get(f"{URL}/{journey['id']}").json() == journey


def test_incomplete_draft_can_be_saved(api: TestClient) -> None:
    journey = create(api, steps=[{"id": "a", "type": "send"}, {"id": "a", "type": "wait", "next": "ghost"}])
    assert journey["status"] == "draft"
    result = api.post(f"{URL}/{journey['id']}/validate").json()
    assert result["valid"] is False
    assert {"duplicate_step_id", "missing_config"} <= {issue["code"] for issue in result["issues"]}


def test_aliases_max_duration_days_and_entry_condition_event(api: TestClient) -> None:
    response = api.post(
        URL,
        json={
            "name": "Aliases",
            "maxDurationDays": 12,
            "entryCondition": {"event": "purchase"},
            "steps": OTHER_STEPS,
        },
    )
    assert response.status_code == 201, response.text
    journey = response.json()
    assert journey["maxDuration"] == 12
    assert journey["entryConditions"]["eventType"] == "purchase"
    updated = put(api, journey["id"], maxDurationDays=20, entryCondition={"event": "login"}).json()
    assert (updated["maxDuration"], updated["entryConditions"]["eventType"]) == (20, "login")


def test_unknown_journey_is_404_everywhere(api: TestClient) -> None:
    for method, path in [
        ("get", ""),
        ("put", ""),
        ("delete", ""),
        ("post", "/validate"),
        ("get", "/versions"),
        ("get", "/export"),
        ("post", "/duplicate"),
    ]:
        kwargs = {"json": {"name": "x"}} if method == "put" else {}
        response = getattr(api, method)(f"{URL}/jrn_missing{path}", **kwargs)
        assert error(response, 404, "not_found")["details"] == {"id": "jrn_missing"}


# ---- transitions ------------------------------------------------------------------------------------------

ALLOWED = [
    ("draft", "active"),
    ("draft", "archived"),
    ("active", "paused"),
    ("active", "archived"),
    ("paused", "active"),
    ("paused", "archived"),
]
REFUSED = [
    ("draft", "paused"),
    ("active", "draft"),
    ("paused", "draft"),
    ("archived", "draft"),
    ("archived", "active"),
    ("archived", "paused"),
]


@pytest.mark.parametrize(("start", "target"), ALLOWED)
def test_allowed_transition(api: TestClient, start: str, target: str) -> None:
    journey_id = in_status(api, start)
    response = put(api, journey_id, status=target)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == target
    assert api.get(f"{URL}/{journey_id}").json()["status"] == target


@pytest.mark.parametrize(("start", "target"), REFUSED)
def test_refused_transition(api: TestClient, start: str, target: str) -> None:
    journey_id = in_status(api, start)
    body = error(put(api, journey_id, status=target), 409, "invalid_transition")
    assert body["details"]["from"] == start
    assert body["details"]["to"] == target
    assert api.get(f"{URL}/{journey_id}").json()["status"] == start


def test_asking_for_the_current_status_changes_nothing(api: TestClient) -> None:
    journey_id = in_status(api, "active")
    before = api.get(f"{URL}/{journey_id}").json()
    assert put(api, journey_id, status="active").json() == before


def test_activation_with_validation_errors_is_refused_with_the_issues(api: TestClient) -> None:
    journey_id = create(api, steps=[{"id": "a", "type": "wait", "config": {"duration": 1}, "next": "ghost"}])[
        "id"
    ]
    body = error(put(api, journey_id, status="active"), 409, "validation_failed")
    assert [(i["code"], i["stepId"]) for i in body["details"]["issues"]] == [("unknown_target", "a")]
    assert api.get(f"{URL}/{journey_id}").json()["status"] == "draft"


def test_activation_with_warnings_only_is_allowed(api: TestClient) -> None:
    steps = [
        {
            "id": "b",
            "type": "branch",
            "config": {"conditions": [{"expression": "true", "targetStepId": "w"}]},
        },
        {"id": "w", "type": "wait", "config": {"duration": 1}},
    ]
    journey_id = create(api, steps=steps, entryConditions={})["id"]
    result = api.post(f"{URL}/{journey_id}/validate").json()
    assert result["valid"] is True
    assert {i["code"] for i in result["issues"]} == {"branch_without_default", "no_entry_trigger"}
    assert put(api, journey_id, status="active").json()["status"] == "active"


def test_pause_records_paused_at_and_resume_clears_it(api: TestClient) -> None:
    journey_id = in_status(api, "paused")
    assert api.get(f"{URL}/{journey_id}").json()["pausedAt"] == "2026-01-05T09:00:00.000Z"
    resumed = put(api, journey_id, status="active", extendWaits=True).json()
    assert "pausedAt" not in resumed


# ---- edits per status --------------------------------------------------------------------------------------


def test_draft_accepts_any_edit_and_saves_update_the_draft_without_new_versions(api: TestClient) -> None:
    journey_id = create(api)["id"]
    assert put(api, journey_id, name="Renamed", description="d").json()["version"] == 1
    assert put(api, journey_id, steps=OTHER_STEPS).json()["version"] == 1
    assert put(api, journey_id, maxDuration=9).json()["version"] == 1
    entry = {"segmentId": None, "eventType": "x", "reentry": "never"}
    saved = put(api, journey_id, entryConditions=entry).json()
    assert (saved["version"], saved["revision"]) == (1, 5)
    versions = api.get(f"{URL}/{journey_id}/versions").json()["data"]
    assert len(versions) == 1
    assert (versions[0]["steps"], versions[0]["maxDuration"]) == (saved["steps"], 9)


def test_active_journey_accepts_name_and_description(api: TestClient) -> None:
    journey_id = in_status(api, "active")
    updated = put(api, journey_id, name="Live", description="running").json()
    assert (updated["name"], updated["description"], updated["version"]) == ("Live", "running", 1)


@pytest.mark.parametrize(
    "change", [{"steps": OTHER_STEPS}, {"maxDuration": 5}, {"entryConditions": {"eventType": "other"}}]
)
def test_active_journey_refuses_structural_change(api: TestClient, change: dict[str, Any]) -> None:
    journey_id = in_status(api, "active")
    body = error(put(api, journey_id, **change), 409, "pause_first")
    assert "pause the journey first" in body["message"]
    assert api.get(f"{URL}/{journey_id}").json()["version"] == 1


def test_paused_journey_accepts_a_valid_structural_change(api: TestClient) -> None:
    journey_id = in_status(api, "paused")
    updated = put(api, journey_id, steps=OTHER_STEPS, name="Shorter").json()
    assert (updated["version"], updated["name"], updated["status"]) == (2, "Shorter", "paused")


def test_paused_journey_refuses_a_change_that_does_not_validate(api: TestClient) -> None:
    journey_id = in_status(api, "paused")
    broken = [{"id": "only", "type": "wait", "config": {"duration": 1}, "next": "ghost"}]
    body = error(put(api, journey_id, steps=broken), 409, "validation_failed")
    assert body["details"]["issues"][0]["code"] == "unknown_target"
    assert api.get(f"{URL}/{journey_id}").json()["version"] == 1


@pytest.mark.parametrize(
    "change", [{"name": "x"}, {"description": "x"}, {"steps": OTHER_STEPS}, {"maxDuration": 3}]
)
def test_archived_journey_is_read_only(api: TestClient, change: dict[str, Any]) -> None:
    journey_id = in_status(api, "archived")
    error(put(api, journey_id, **change), 409, "read_only")


def test_put_with_fields_and_status_applies_both(api: TestClient) -> None:
    journey_id = in_status(api, "paused")
    updated = put(api, journey_id, steps=OTHER_STEPS, status="active").json()
    assert (updated["status"], updated["version"]) == ("active", 2)


def test_put_with_fields_and_refused_status_changes_nothing(api: TestClient) -> None:
    journey_id = create(api)["id"]
    error(
        put(api, journey_id, name="Never saved", steps=OTHER_STEPS, status="paused"),
        409,
        "invalid_transition",
    )
    journey = api.get(f"{URL}/{journey_id}").json()
    assert (journey["name"], journey["version"]) == ("Onboarding", 1)


def test_put_whose_fields_break_activation_changes_nothing(api: TestClient) -> None:
    journey_id = create(api)["id"]
    broken = [{"id": "a", "type": "send"}]
    error(put(api, journey_id, steps=broken, status="active"), 409, "validation_failed")
    journey = api.get(f"{URL}/{journey_id}").json()
    assert (journey["status"], journey["version"], len(journey["steps"])) == ("draft", 1, 4)


def test_structural_fields_with_status_on_active_journey_apply_current_rules_first(api: TestClient) -> None:
    journey_id = in_status(api, "active")
    error(put(api, journey_id, steps=OTHER_STEPS, status="paused"), 409, "pause_first")
    assert api.get(f"{URL}/{journey_id}").json()["status"] == "active"


# ---- delete -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["draft", "archived"])
def test_delete_draft_or_archived_answers_204(api: TestClient, status: str) -> None:
    journey_id = in_status(api, status)
    response = api.delete(f"{URL}/{journey_id}")
    assert response.status_code == 204
    assert response.content == b""
    error(api.get(f"{URL}/{journey_id}"), 404, "not_found")


@pytest.mark.parametrize("status", ["active", "paused"])
def test_delete_live_journey_says_archive_first(api: TestClient, status: str) -> None:
    journey_id = in_status(api, status)
    body = error(api.delete(f"{URL}/{journey_id}"), 409, "archive_first")
    assert "archive" in body["message"]
    assert api.get(f"{URL}/{journey_id}").status_code == 200


# ---- list -------------------------------------------------------------------------------------------------


def test_list_envelope_paginates_and_filters(api: TestClient) -> None:
    ids = {create(api, name=f"Journey {n}")["id"] for n in range(5)}
    put(api, sorted(ids)[0], status="active")
    first = api.get(URL, params={"limit": 2}).json()
    assert first["pagination"] == {"total": 5, "limit": 2, "offset": 0, "hasMore": True}
    last = api.get(URL, params={"limit": 2, "offset": 4}).json()
    assert last["pagination"] == {"total": 5, "limit": 2, "offset": 4, "hasMore": False}
    pages = [api.get(URL, params={"limit": 2, "offset": o}).json()["data"] for o in (0, 2, 4)]
    assert {j["id"] for page in pages for j in page} == ids
    active = api.get(URL, params={"status": "active"}).json()
    assert [j["id"] for j in active["data"]] == [sorted(ids)[0]]
    assert active["pagination"]["total"] == 1


def test_list_puts_the_most_recently_updated_first(api: TestClient, clock: Any) -> None:
    older = create(api, name="Older")["id"]
    clock.advance(minutes=1)
    newer = create(api, name="Newer")["id"]
    clock.advance(minutes=1)
    put(api, older, description="touched")
    assert [j["id"] for j in api.get(URL).json()["data"]] == [older, newer]


def test_list_search_matches_part_of_the_name_case_insensitively(api: TestClient) -> None:
    create(api, name="Spring sale")
    create(api, name="Winback 100%")
    assert [j["name"] for j in api.get(URL, params={"search": "SALE"}).json()["data"]] == ["Spring sale"]
    # LIKE wildcards are matched literally.
    assert [j["name"] for j in api.get(URL, params={"search": "%"}).json()["data"]] == ["Winback 100%"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"offset": -1}, "offset"),
        ({"status": "running"}, "status"),
        ({"limit": "ten"}, "limit"),
    ],
)
def test_list_rejects_bad_query_parameters(api: TestClient, params: dict[str, Any], field: str) -> None:
    assert error(api.get(URL, params=params), 422, "invalid")["details"]["field"] == field


# ---- versions, export, import -------------------------------------------------------------------------


def test_versions_hold_every_definition_including_the_current_one(api: TestClient) -> None:
    journey_id = in_status(api, "paused")
    put(api, journey_id, steps=OTHER_STEPS)
    put(api, journey_id, name="Only a rename")
    versions = api.get(f"{URL}/{journey_id}/versions").json()["data"]
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["steps"] == api.get(f"{URL}/{journey_id}").json()["steps"]
    assert [s["id"] for s in versions[1]["steps"]] == [s["id"] for s in STEPS]
    assert set(versions[1]) == {"version", "createdAt", "maxDuration", "entryConditions", "steps"}


def test_export_import_export_round_trips(api: TestClient) -> None:
    journey_id = create(
        api,
        description="all types",
        maxDuration=45,
        entryConditions={
            "segmentId": "seg_x",
            "eventType": "signup",
            "condition": "event.plan == 'pro'",
            "reentry": "restart",
            "cooldownHours": 12,
        },
    )["id"]
    put(api, journey_id, status="active")
    put(api, journey_id, status="paused")
    exported = api.get(f"{URL}/{journey_id}/export").json()
    assert "pausedAt" not in exported
    imported = api.post(f"{URL}/import", json=exported)
    assert imported.status_code == 201
    copy = imported.json()
    assert copy["id"] != journey_id
    assert (copy["status"], copy["version"]) == ("draft", 1)
    again = api.get(f"{URL}/{copy['id']}/export").json()
    volatile = {"id", "status", "version", "createdAt", "updatedAt"}
    assert {k: v for k, v in again.items() if k not in volatile} == {
        k: v for k, v in exported.items() if k not in volatile
    }


def test_import_accepts_the_aliases_and_rejects_a_bad_document(api: TestClient) -> None:
    copy = api.post(
        f"{URL}/import",
        json={
            "name": "Old export",
            "maxDurationDays": 7,
            "entryCondition": {"event": "x"},
            "steps": OTHER_STEPS,
        },
    ).json()
    assert (copy["maxDuration"], copy["entryConditions"]["eventType"]) == (7, "x")
    body = error(api.post(f"{URL}/import", json={"name": "", "steps": []}), 422, "invalid")
    assert body["details"]["field"] == "name"


def test_duplicate_makes_a_named_draft_copy(api: TestClient) -> None:
    journey_id = in_status(api, "active")
    response = api.post(f"{URL}/{journey_id}/duplicate")
    assert response.status_code == 201
    copy = response.json()
    assert (copy["name"], copy["status"]) == ("Onboarding (copy)", "draft")
    assert copy["steps"] == api.get(f"{URL}/{journey_id}").json()["steps"]


def test_openapi_documents_the_journey_routes(api: TestClient) -> None:
    spec = api.app.openapi()  # type: ignore[attr-defined]
    paths = spec["paths"]
    assert {
        "/api/v1/journeys",
        "/api/v1/journeys/{journey_id}",
        "/api/v1/journeys/{journey_id}/validate",
        "/api/v1/journeys/{journey_id}/versions",
        "/api/v1/journeys/{journey_id}/export",
        "/api/v1/journeys/import",
    } <= set(paths)
    document = spec["components"]["schemas"]["JourneyDocument"]
    assert "steps" in document["properties"]
    assert "409" in paths["/api/v1/journeys/{journey_id}"]["put"]["responses"]
