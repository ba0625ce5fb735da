"""POST /journeys/{id}/enroll, POST /journeys/{id}/test and GET /customers/{id}/journeys."""

from __future__ import annotations

from fastapi.testclient import TestClient

from engine.engine import Engine
from engine.journeys import lifecycle
from engine.runtime import runner
from tests.engine.test_runtime import exit_step, make_customers, make_journey, wait

BRANCHY = [
    wait("pause", 1, "days", "route", untilEvent="purchase"),
    {
        "id": "route",
        "type": "branch",
        "config": {
            "conditions": [
                {
                    "label": "bought",
                    "expression": "event != null && event.type == 'purchase'",
                    "targetStepId": "thanks",
                },
                {"label": "clicked", "expression": "outcome == 'click'", "targetStepId": "nudge"},
                {"label": "vip", "expression": "customer.tier == 'gold'", "targetStepId": "vip"},
            ],
            "defaultStepId": "bye",
        },
    },
    exit_step("thanks", "bought"),
    exit_step("nudge", "clicked"),
    exit_step("vip", "vip"),
    exit_step("bye", "none"),
]


def test_enroll_answers_201_with_counts_ids_and_skip_reasons(engine: Engine, api: TestClient) -> None:
    make_customers(engine, "c1", "c2")
    journey_id = make_journey(engine, [wait("w", 1, "days")], name="Welcome")
    response = api.post(
        f"/api/v1/journeys/{journey_id}/enroll", json={"customerIds": ["c1", "c2", "c1", "nobody"]}
    )
    assert response.status_code == 201
    body = response.json()
    assert {key: body[key] for key in ("journeyId", "journeyName", "enrolled", "skipped")} == {
        "journeyId": journey_id,
        "journeyName": "Welcome",
        "enrolled": 2,
        "skipped": 2,
    }
    assert len(body["enrollmentIds"]) == 2
    assert sorted(item["reason"] for item in body["skippedCustomers"]) == ["duplicate", "unknown_customer"]
    single = api.post(f"/api/v1/journeys/{journey_id}/enroll", json={"customerId": "c1"}).json()
    assert (single["enrolled"], single["skippedCustomers"][0]["reason"]) == (0, "already_active")


def test_enroll_refuses_bad_bodies_unknown_journeys_and_inactive_ones(
    engine: Engine, api: TestClient
) -> None:
    make_customers(engine, "c1")
    draft = make_journey(engine, [exit_step("x")], activate=False)
    too_many = {"customerIds": [f"c{i}" for i in range(1001)]}
    assert api.post(f"/api/v1/journeys/{draft}/enroll", json=too_many).status_code == 422
    assert api.post(f"/api/v1/journeys/{draft}/enroll", json={}).status_code == 422
    assert api.post("/api/v1/journeys/jrn_missing/enroll", json={"customerId": "c1"}).status_code == 404
    conflict = api.post(f"/api/v1/journeys/{draft}/enroll", json={"customerId": "c1"})
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "conflict"
    lifecycle.change_status(engine, draft, "active")
    lifecycle.change_status(engine, draft, "paused")
    assert api.post(f"/api/v1/journeys/{draft}/enroll", json={"customerId": "c1"}).status_code == 409


def test_simulation_traces_steps_in_virtual_time_without_side_effects(
    engine: Engine, api: TestClient
) -> None:
    make_customers(engine, "real", tier="gold")
    journey_id = make_journey(engine, BRANCHY, activate=False)
    response = api.post(f"/api/v1/journeys/{journey_id}/test", json={"customerId": "real"})
    assert response.status_code == 200
    body = response.json()
    assert body["endedAs"] == "exited"
    assert [(item["stepId"], item["type"], item["at"]) for item in body["trace"]] == [
        ("pause", "wait", "2026-01-05T09:00:00.000Z"),
        ("route", "branch", "2026-01-06T09:00:00.000Z"),
        ("vip", "exit", "2026-01-06T09:00:00.000Z"),
    ]
    assert body["trace"][1]["outcome"] == "vip"
    assert api.get("/api/v1/enrollments").json()["pagination"]["total"] == 0
    assert api.get("/api/v1/customers/real").json()["attributes"] == {"tier": "gold"}


def test_simulation_injects_events_and_responses_at_virtual_times(engine: Engine, api: TestClient) -> None:
    journey_id = make_journey(engine, BRANCHY, activate=False)
    url = f"/api/v1/journeys/{journey_id}/test"
    bought = api.post(
        url,
        json={
            "customerAttributes": {"tier": "silver"},
            "events": [{"type": "purchase", "afterMinutes": 90, "properties": {"sku": "x"}}],
        },
    )
    trace = bought.json()["trace"]
    assert [(item["stepId"], item["at"]) for item in trace[1:]] == [
        ("route", "2026-01-05T10:30:00.000Z"),
        ("thanks", "2026-01-05T10:30:00.000Z"),
    ]
    clicked = api.post(
        url,
        json={
            "customerAttributes": {},
            "events": [
                {"type": "response", "at": "2026-01-05T12:00:00Z", "properties": {"outcome": "click"}}
            ],
        },
    ).json()
    assert clicked["trace"][-1]["stepId"] == "nudge"
    assert api.post(url, json={"customerAttributes": {}}).json()["trace"][-1]["stepId"] == "bye"


def test_simulation_of_a_draft_with_a_broken_step_ends_failed(engine: Engine, api: TestClient) -> None:
    journey_id = make_journey(
        engine, [
            {
                "id": "u",
                "type": "update",
                "next": "w",
                "config": {"operations": [{"op": "increment", "attribute": "n", "value": "x"}]},
            },
            wait("w", 1, "days"),
        ],
        activate=False,
    )
    body = api.post(f"/api/v1/journeys/{journey_id}/test", json={"customerAttributes": {"n": 1}}).json()
    assert body["endedAs"] == "failed"
    assert body["trace"][0]["outcome"] == "failed"


def test_simulation_of_a_wait_beyond_max_duration_exits(engine: Engine, api: TestClient) -> None:
    journey_id = make_journey(engine, [wait("w", 10, "days", "x"), exit_step("x")], maxDuration=5,
                              activate=False)
    body = api.post(f"/api/v1/journeys/{journey_id}/test", json={"customerAttributes": {}}).json()
    assert (body["endedAs"], body["exitReason"], len(body["trace"])) == ("exited", "max_duration", 1)


def test_simulation_errors(engine: Engine, api: TestClient) -> None:
    journey_id = make_journey(engine, [exit_step("x")], activate=False)
    assert api.post("/api/v1/journeys/nope/test", json={}).status_code == 404
    assert api.post(f"/api/v1/journeys/{journey_id}/test", json={"customerId": "ghost"}).status_code == 404
    bad = api.post(f"/api/v1/journeys/{journey_id}/test", json={"events": [{"type": ""}]})
    assert bad.status_code == 422


def test_customer_journeys_lists_where_the_customer_is(engine: Engine, api: TestClient) -> None:
    make_customers(engine, "c1", "c2")
    first = make_journey(engine, [wait("w", 1, "days")], name="First")
    second = make_journey(engine, [exit_step("x", "bye")], name="Second")
    for journey_id in (first, second):
        api.post(f"/api/v1/journeys/{journey_id}/enroll", json={"customerId": "c1"})
    runner.run_due(engine)
    items = api.get("/api/v1/customers/c1/journeys").json()
    assert {(item["journeyName"], item["status"], item["stepId"]) for item in items} == {
        ("First", "active", "w"),
        ("Second", "exited", "x"),
    }
    assert api.get("/api/v1/customers/c2/journeys").json() == []
    assert api.get("/api/v1/customers/ghost/journeys").status_code == 404


def test_simulated_updates_and_sends_leave_no_trace(engine: Engine, api: TestClient) -> None:
    from engine.decisioning import offers
    from engine.delivery import channels_admin
    from models.channels import ChannelCreate
    from models.offers import OfferIn

    offers.create_offer(engine, OfferIn(id="gold", name="Gold"))
    channels_admin.create_channel(engine, ChannelCreate(id="inapp", name="In-app", type="in_app"))
    make_customers(engine, "real", points=1)
    journey_id = make_journey(
        engine, [
            {
                "id": "u",
                "type": "update",
                "next": "s",
                "config": {"operations": [{"op": "increment", "attribute": "points", "value": 5}]},
            },
            {"id": "s", "type": "send", "next": "b", "config": {"channelId": "inapp", "offerId": "gold"}},
            {
                "id": "b",
                "type": "branch",
                "config": {
                    "conditions": [
                        {"label": "six", "expression": "customer.points == 6", "targetStepId": "x"}
                    ]
                },
            },
            exit_step("x", "six"),
        ]
    )
    body = api.post(f"/api/v1/journeys/{journey_id}/test", json={"customerId": "real"}).json()
    assert [item["outcome"] for item in body["trace"]] == ["updated", "would_send", "six", "exited"]
    assert api.get("/api/v1/customers/real").json()["attributes"] == {"points": 1}
    assert api.get("/api/v1/deliveries").json()["pagination"]["total"] == 0
