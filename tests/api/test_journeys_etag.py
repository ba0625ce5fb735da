"""Optimistic concurrency on journeys: GET answers `ETag: "<revision>"`, a PUT with an If-Match that is not
the current ETag answers 412 `stale` and changes nothing; draft saves do not pile up versions."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

URL = "/api/v1/journeys"
WAIT = {"id": "w", "type": "wait", "config": {"duration": 1, "unit": "days"}}


def create(api: TestClient) -> str:
    response = api.post(URL, json={"name": "Tagged", "steps": [WAIT]})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def put(api: TestClient, journey_id: str, if_match: str | None = None, **body: Any) -> Any:
    headers = {"If-Match": if_match} if if_match is not None else {}
    return api.put(f"{URL}/{journey_id}", json=body, headers=headers)


def etag(api: TestClient, journey_id: str) -> str:
    response = api.get(f"{URL}/{journey_id}")
    assert response.status_code == 200
    return response.headers["etag"]


def test_get_answers_the_revision_as_etag(api: TestClient) -> None:
    journey_id = create(api)
    response = api.get(f"{URL}/{journey_id}")
    assert response.headers["etag"] == '"1"'
    assert response.json()["revision"] == 1


def test_a_stale_or_foreign_if_match_is_412_and_changes_nothing(api: TestClient) -> None:
    journey_id = create(api)
    for tag in ('"nope"', "nope", '"2"', 'W/"1"', '""'):
        refused = put(api, journey_id, tag, name="Overwritten")
        assert refused.status_code == 412, (tag, refused.text)
        error = refused.json()["error"]
        assert error["code"] == "stale"
        assert error["details"] == {"revision": 1}
    assert api.get(f"{URL}/{journey_id}").json()["name"] == "Tagged"
    assert etag(api, journey_id) == '"1"'


def test_the_current_etag_is_accepted_and_the_answer_carries_the_next(api: TestClient) -> None:
    journey_id = create(api)
    first = put(api, journey_id, etag(api, journey_id), name="Mine")
    assert first.status_code == 200, first.text
    assert first.headers["etag"] == '"2"'
    # The other tab still holds "1": its save is refused instead of silently overwriting "Mine".
    assert put(api, journey_id, '"1"', name="Theirs").status_code == 412
    assert put(api, journey_id, '"7", "2"', description="either tag").status_code == 200
    assert api.get(f"{URL}/{journey_id}").json()["name"] == "Mine"


def test_no_if_match_or_a_star_sets_no_condition(api: TestClient) -> None:
    journey_id = create(api)
    assert put(api, journey_id, name="Blind").status_code == 200
    assert put(api, journey_id, "*", name="Star").status_code == 200
    assert etag(api, journey_id) == '"3"'


def test_every_change_bumps_the_revision_and_a_no_op_does_not(api: TestClient) -> None:
    journey_id = create(api)
    put(api, journey_id, status="active")
    assert etag(api, journey_id) == '"2"'
    put(api, journey_id, status="active")  # already active: nothing changes
    assert etag(api, journey_id) == '"2"'
    put(api, journey_id, status="paused")
    assert etag(api, journey_id) == '"3"'


def test_unknown_journey_is_404_with_or_without_if_match(api: TestClient) -> None:
    assert api.get(f"{URL}/jrn_missing").status_code == 404
    assert put(api, "jrn_missing", '"1"', name="x").status_code == 404


def test_five_draft_saves_keep_one_version(api: TestClient) -> None:
    journey_id = create(api)
    steps = [WAIT]
    for number in range(5):  # as five drops on the canvas, each autosaved
        steps = [*steps, {"id": f"x{number}", "type": "exit"}]
        assert put(api, journey_id, etag(api, journey_id), steps=steps).status_code == 200
    versions = api.get(f"{URL}/{journey_id}/versions").json()["data"]
    assert [version["version"] for version in versions] == [1]
    assert len(versions[0]["steps"]) == 6
    assert etag(api, journey_id) == '"6"'


def test_activation_then_a_paused_edit_records_a_new_version(api: TestClient) -> None:
    journey_id = create(api)
    put(api, journey_id, status="active")
    put(api, journey_id, status="paused")
    changed = put(api, journey_id, steps=[{**WAIT, "config": {"duration": 2, "unit": "days"}}]).json()
    assert changed["version"] == 2
    assert [v["version"] for v in api.get(f"{URL}/{journey_id}/versions").json()["data"]] == [2, 1]
