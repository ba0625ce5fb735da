"""Bad input never answers 500: every malformed body is a 422 envelope naming the field at fault; and the
validation codes on crafted journeys through POST /journeys/{id}/validate."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.engine import Engine
from models.audience import Segment
from models.channels import Channel
from models.offers import DecisionFlow, Offer

URL = "/api/v1/journeys"
WAIT = {"id": "w", "type": "wait", "config": {"duration": 1}}


def invalid(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    body = response.json()["error"]
    assert body["code"] == "invalid"
    return body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"steps": []}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 100_000}, "name"),
        ({"name": 42}, "name"),
        ({"name": "x", "description": "d" * 2001}, "description"),
        ({"name": "x", "maxDuration": 0}, "maxDuration"),
        ({"name": "x", "maxDuration": 366}, "maxDuration"),
        ({"name": "x", "maxDurationDays": "month"}, "maxDuration"),
        ({"name": "x", "maxDuration": "30"}, "maxDuration"),
        ({"name": "x", "maxDuration": True}, "maxDuration"),
        ({"name": "x", "maxDuration": 30.5}, "maxDuration"),
        ({"name": "x", "steps": {"id": "w"}}, "steps"),
        ({"name": "x", "steps": [WAIT] * 201}, "steps"),
        ({"name": "x", "steps": [WAIT] * 10_000}, "steps"),
        ({"name": "x", "steps": [{"id": "a", "type": "teleport"}]}, "steps.0.type"),
        ({"name": "x", "steps": [{"id": "a"}]}, "steps.0.type"),
        ({"name": "x", "steps": [{"id": "a b", "type": "wait"}]}, "steps.0.id"),
        ({"name": "x", "steps": [{"id": "x" * 65, "type": "wait"}]}, "steps.0.id"),
        (
            {"name": "x", "steps": [WAIT, {"id": "w2", "type": "wait", "config": {"unit": "weeks"}}]},
            "steps.1.config.unit",
        ),
        (
            {"name": "x", "steps": [{"id": "w", "type": "wait", "config": {"duration": 0}}]},
            "steps.0.config.duration",
        ),
        ({"name": "x", "steps": [{"id": "w", "type": "wait", "bogus": 1}]}, "steps.0.bogus"),
        (
            {"name": "x", "steps": [{"id": "s", "type": "split", "config": {"paths": [{"percent": 101}]}}]},
            "steps.0.config.paths.0.percent",
        ),
        (
            {"name": "x", "steps": [{"id": "d", "type": "decide", "config": {"maxOffers": 11}}]},
            "steps.0.config.maxOffers",
        ),
        (
            {
                "name": "x",
                "steps": [{"id": "u", "type": "update", "config": {"operations": [{"op": "explode"}]}}],
            },
            "steps.0.config.operations.0.op",
        ),
        ({"name": "x", "entryConditions": {"reentry": "sometimes"}}, "entryConditions.reentry"),
        ({"name": "x", "entryConditions": {"cooldownHours": -1}}, "entryConditions.cooldownHours"),
        ({"name": "x", "entryConditions": {"condition": "a" * 5000}}, "entryConditions.condition"),
        ({"name": "x", "status": "active"}, "status"),
        ({"name": "x", "unknown": True}, "unknown"),
    ],
)
def test_bad_create_body_is_422_naming_the_field(api: TestClient, body: dict[str, Any], field: str) -> None:
    error = invalid(api.post(URL, json=body))
    assert error["details"]["field"] == field
    assert error["message"].startswith(field)


@pytest.mark.parametrize(
    "raw", [b"{bad", b"", b"[]", b'"name"', b"null", b'{"name": "x", "maxDuration": NaN}']
)
def test_malformed_json_is_422(api: TestClient, raw: bytes) -> None:
    invalid(api.post(URL, content=raw, headers={"content-type": "application/json"}))


@pytest.mark.parametrize("raw", [b"{bad", b"", b"[]", b'"name"', b"null", b"[" * 5000 + b"]" * 5000])
def test_body_that_is_not_an_object_names_the_body(api: TestClient, raw: bytes) -> None:
    error = invalid(api.post(URL, content=raw, headers={"content-type": "application/json"}))
    assert error["details"]["field"] == "body"


def test_non_finite_numbers_are_refused(api: TestClient) -> None:
    # Python's json accepts NaN/Infinity; PostgreSQL JSON and JSON responses do not.
    moved = {**WAIT, "position": {"x": "Infinity", "y": 0}}
    error = invalid(api.post(URL, json={"name": "x", "steps": [moved]}))
    assert error["details"]["field"] == "steps.0.position.x"
    raw = (
        b'{"name": "x", "steps": [{"id": "u", "type": "update", "config": {"operations": '
        b'[{"op": "set", "attribute": "a", "value": [1, Infinity]}]}}]}'
    )
    error = invalid(api.post(URL, content=raw, headers={"content-type": "application/json"}))
    assert error["details"]["field"] == "steps.0.config.operations.0.value"


def test_deeply_nested_update_value_is_refused(api: TestClient) -> None:
    value: Any = 1
    for _ in range(40):
        value = [value]
    operation = {"op": "set", "attribute": "a", "value": value}
    body = {"name": "x", "steps": [{"id": "u", "type": "update", "config": {"operations": [operation]}}]}
    assert invalid(api.post(URL, json=body))["details"]["field"] == "steps.0.config.operations.0.value"


def test_bad_update_body_is_422_and_changes_nothing(api: TestClient) -> None:
    journey_id = api.post(URL, json={"name": "Kept", "steps": [WAIT]}).json()["id"]
    for body, field in [
        ({"status": "running"}, "status"),
        ({"name": ""}, "name"),
        ({"steps": [{"id": "w", "type": "wait", "config": {"unit": "weeks"}}]}, "steps.0.config.unit"),
        ({"extendWaits": "maybe"}, "extendWaits"),
        ({"extendWaits": 0}, "extendWaits"),
        ({"extendWaits": "true"}, "extendWaits"),
        ({"id": "jrn_other"}, "id"),
    ]:
        assert invalid(api.put(f"{URL}/{journey_id}", json=body))["details"]["field"] == field
    journey = api.get(f"{URL}/{journey_id}").json()
    assert (journey["name"], journey["version"]) == ("Kept", 1)


def test_unknown_sub_route_is_a_404_envelope(api: TestClient) -> None:
    response = api.get(f"{URL}/jrn_x/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# ---- validation codes through the API --------------------------------------------------------------------


@pytest.fixture
def references(engine: Engine) -> None:
    moment = datetime(2026, 1, 1)
    stamps = {"created_at": moment, "updated_at": moment}
    with engine.session() as s:
        s.add(Segment(id="seg_vip", name="VIP", static=True, **stamps))
        s.add(DecisionFlow(id="df_main", name="Main", **stamps))
        s.add(Channel(id="ch_app", name="App", type="in_app", **stamps))
        s.add(Offer(id="off_1", name="Ten percent", **stamps))


def issues_of(
    api: TestClient, steps: list[dict[str, Any]], **document: Any
) -> list[tuple[str, str, str | None]]:
    created = api.post(
        URL, json={"name": "Crafted", "entryConditions": {"segmentId": "seg_vip"}, **document, "steps": steps}
    )
    assert created.status_code == 201, created.text
    result = api.post(f"{URL}/{created.json()['id']}/validate").json()
    found = [(issue["severity"], issue["code"], issue["stepId"]) for issue in result["issues"]]
    assert result["valid"] == all(severity == "warning" for severity, _, _ in found)
    return found


def test_complete_journey_with_real_references_is_valid(api: TestClient, references: None) -> None:
    steps = [
        {
            "id": "pick",
            "type": "decide",
            "config": {"decisionFlowId": "df_main", "storeResultAs": "best"},
            "next": "tell",
        },
        {
            "id": "tell",
            "type": "send",
            "config": {"channelId": "ch_app", "offerFrom": "best"},
            "next": "later",
        },
        {
            "id": "later",
            "type": "wait",
            "config": {"duration": 2, "unit": "days", "untilEvent": "purchase"},
            "next": "ab",
        },
        {
            "id": "ab",
            "type": "split",
            "config": {
                "paths": [
                    {"label": "A", "percent": 50, "targetStepId": "tag"},
                    {"label": "B", "percent": 50, "targetStepId": "gift"},
                ]
            },
        },
        {"id": "gift", "type": "send", "config": {"channelId": "ch_app", "offerId": "off_1"}, "next": "tag"},
        {
            "id": "tag",
            "type": "update",
            "config": {"operations": [{"op": "addSegment", "segmentId": "seg_vip"}]},
            "next": "did",
        },
        {
            "id": "did",
            "type": "branch",
            "config": {
                "conditions": [{"expression": "outcome == 'click'", "targetStepId": "bye"}],
                "defaultStepId": "bye",
            },
        },
        {"id": "bye", "type": "exit", "config": {"reason": "done"}},
    ]
    assert issues_of(api, steps) == []


def test_unreachable_step(api: TestClient, references: None) -> None:
    assert issues_of(api, [WAIT, {**WAIT, "id": "alone"}]) == [("error", "unreachable_step", "alone")]


def test_dangling_target(api: TestClient, references: None) -> None:
    assert issues_of(api, [{**WAIT, "next": "nowhere"}]) == [("error", "unknown_target", "w")]


def test_branch_without_default_is_a_warning(api: TestClient, references: None) -> None:
    steps = [
        {
            "id": "b",
            "type": "branch",
            "config": {"conditions": [{"expression": "true", "targetStepId": "w"}]},
        },
        WAIT,
    ]
    assert issues_of(api, steps) == [("warning", "branch_without_default", "b")]


def test_cycle_without_wait(api: TestClient, references: None) -> None:
    steps = [
        {
            "id": "a",
            "type": "update",
            "config": {"operations": [{"op": "setFlag", "flag": "f"}]},
            "next": "b",
        },
        {"id": "b", "type": "send", "config": {"channelId": "ch_app", "offerId": "off_1"}, "next": "a"},
    ]
    assert issues_of(api, steps) == [("error", "cycle_without_wait", "a")]


def test_bad_cel(api: TestClient, references: None) -> None:
    steps = [
        {
            "id": "b",
            "type": "branch",
            "config": {
                "conditions": [{"expression": "customer.age >> 3", "targetStepId": "w"}],
                "defaultStepId": "w",
            },
        },
        WAIT,
    ]
    assert issues_of(api, steps) == [("error", "invalid_expression", "b")]


def test_split_not_summing_to_100(api: TestClient, references: None) -> None:
    steps = [
        {
            "id": "s",
            "type": "split",
            "config": {"paths": [{"percent": 70, "targetStepId": "w"}, {"percent": 20, "targetStepId": "w"}]},
        },
        WAIT,
    ]
    assert issues_of(api, steps) == [("error", "invalid_config", "s")]


def test_unknown_references(api: TestClient, references: None) -> None:
    steps = [
        {
            "id": "d",
            "type": "decide",
            "config": {"decisionFlowId": "df_gone", "storeResultAs": "r"},
            "next": "m",
        },
        {"id": "m", "type": "send", "config": {"channelId": "ch_gone", "offerFrom": "r"}},
    ]
    found = issues_of(api, steps, entryConditions={"segmentId": "seg_gone"})
    assert found == [
        ("error", "unknown_reference", None),
        ("error", "unknown_reference", "d"),
        ("error", "unknown_reference", "m"),
    ]


def test_no_steps(api: TestClient, references: None) -> None:
    assert issues_of(api, []) == [("error", "no_steps", None)]


def test_waits_longer_than_max_duration_warn(api: TestClient, references: None) -> None:
    assert issues_of(api, [{**WAIT, "config": {"duration": 50}}], maxDuration=20) == [
        ("warning", "max_duration_exceeded", None)
    ]


def test_unsaved_document_can_be_validated(api: TestClient, references: None) -> None:
    document = {"name": "Unsaved", "status": "draft", "steps": [
        {"id": "w", "type": "wait", "config": {"unit": "weeks"}}, {"id": "x", "type": "exit", "next": "w"}]}
    shape = api.post(f"{URL}/validate", json=document).json()
    assert shape["valid"] is False
    assert [(i["code"], i["stepId"]) for i in shape["issues"]] == [("invalid_shape", "w")]
    document["steps"][0]["config"] = {"duration": 1}
    result = api.post(f"{URL}/validate", json=document).json()
    assert [(i["code"], i["stepId"]) for i in result["issues"]] == [
        ("no_entry_trigger", None), ("unreachable_step", "x"), ("next_ignored", "x")]
    assert invalid(api.post(f"{URL}/validate", json=[1]))["details"]["field"] == "body"
