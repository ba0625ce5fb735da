"""Each step type in virtual time, the seed's outcome branch on real responses, failures and retry."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine.audience import customers
from engine.clock import VirtualClock
from engine.decisioning import offers
from engine.delivery import channels_admin, deliveries, dispatcher, responses
from engine.engine import Engine
from engine.errors import Conflict
from engine.journeys.steps.split import roll
from engine.runtime import enrollments, runner
from models.audience import CustomerUpdate
from models.channels import ChannelCreate, Delivery
from models.offers import DecisionFlowIn, OfferIn
from tests.engine.test_runtime import (
    enroll,
    exit_step,
    journey_counters,
    make_customers,
    make_journey,
    state,
    wait,
)


def make_offers(engine: Engine) -> None:
    creative = {"in_app": {"subject": "Hi {{ customer.name }}", "body": "Try {{ offer.name }}"}}
    offers.create_offer(engine, OfferIn(id="gold", name="Gold card", propensity=0.9, creatives=creative))
    offers.create_offer(
        engine, OfferIn(
            id="silver",
            name="Silver card",
            propensity=0.4,
            creatives=creative,
            eligibility="customer.age >= 18",
        )
    )
    offers.create_offer(
        engine, OfferIn(
            id="teen", name="Teen card", propensity=0.5, creatives=creative, eligibility="customer.age < 18"
        )
    )
    offers.create_decision_flow(
        engine, DecisionFlowIn(id="cards", name="Cards", offer_ids=["gold", "silver", "teen"], max_offers=3)
    )
    channels_admin.create_channel(engine, ChannelCreate(id="inapp", name="In-app", type="in_app"))


def decide_step(next_step: str | None, **config: Any) -> dict[str, Any]:
    return {
        "id": "pick",
        "type": "decide",
        "next": next_step,
        "config": {"decisionFlowId": "cards", "maxOffers": 2, "storeResultAs": "best", **config},
    }


def send_step(step_id: str, next_step: str | None = None, **config: Any) -> dict[str, Any]:
    return {
        "id": step_id,
        "type": "send",
        "next": next_step,
        "config": {"channelId": "inapp", "offerFrom": "best", **config},
    }


def test_decide_stores_ranked_offers_and_a_branch_reads_them(engine: Engine) -> None:
    make_offers(engine)
    make_customers(engine, "adult", name="Ann", age=30)
    make_customers(engine, "teen", name="Tim", age=15)
    journey_id = make_journey(
        engine, [
            decide_step("check"),
            {
                "id": "check",
                "type": "branch",
                "config": {
                    "conditions": [
                        {
                            "label": "gold",
                            "expression": "best[0].offerId == 'gold' && size(context.best) == 2",
                            "targetStepId": "yes",
                        }
                    ],
                    "defaultStepId": "no",
                },
            },
            exit_step("yes", "gold_first"),
            exit_step("no", "other"),
        ]
    )
    adult, teen = enroll(engine, journey_id, "adult", "teen")
    runner.run_due(engine)
    history = state(engine, adult)["history"]
    assert history[0]["type"] == "decide"
    assert history[0]["detail"]["offers"] == ["gold", "silver"]
    assert history[1]["detail"]["matched"] == "gold"
    assert state(engine, adult)["exitReason"] == "gold_first"
    assert state(engine, teen)["history"][0]["detail"]["offers"] == ["gold", "teen"]


def test_send_queues_one_delivery_with_the_idempotency_key_and_the_dispatcher_fills_the_inbox(
    engine: Engine, ) -> None:
    make_offers(engine)
    make_customers(engine, "c1", name="Ann", age=30)
    journey_id = make_journey(engine, [decide_step("mail"), send_step("mail")])
    [eid] = enroll(engine, journey_id, "c1")
    runner.run_due(engine)
    send = state(engine, eid)["history"][1]
    assert (send["outcome"], send["detail"]["offerId"]) == ("queued", "gold")
    with engine.session() as s:
        row = s.get(Delivery, send["detail"]["deliveryId"])
        assert row is not None
        assert row.idempotency_key == f"{eid}:mail:1"
    dispatcher.dispatch_due(engine)
    [message] = deliveries.inbox(engine, "c1")["data"]
    assert message["subject"] == "Hi Ann"


def test_send_suppressed_by_the_contact_policy_is_recorded_and_the_journey_goes_on(engine: Engine) -> None:
    make_offers(engine)
    offers.update_decision_flow(
        engine, "cards",
        DecisionFlowIn(
            id="cards", name="Cards", offer_ids=["gold"], contact_policy={"maxPerOffer": 1, "windowDays": 7}
        ),
    )
    make_customers(engine, "c1", age=30)
    journey_id = make_journey(
        engine, [decide_step("one"), send_step("one", "two"), send_step("two", "end"), exit_step("end")]
    )
    [eid] = enroll(engine, journey_id, "c1")
    runner.run_due(engine)
    outcomes = [(item["stepId"], item["outcome"]) for item in state(engine, eid)["history"]]
    assert outcomes[1:3] == [("one", "queued"), ("two", "suppressed")]
    assert state(engine, eid)["history"][2]["detail"]["reason"]
    assert state(engine, eid)["status"] == "exited"


def test_seed_branch_routes_on_real_responses_to_real_deliveries(
    engine: Engine, clock: VirtualClock
) -> None:
    make_offers(engine)
    make_customers(engine, "converts", "clicks", "ignores", age=30, name="X")
    journey_id = make_journey(
        engine, [
            decide_step("offer"),
            send_step("offer", "pause"),
            wait("pause", 2, "days", "route"),
            {
                "id": "route",
                "type": "branch",
                "config": {
                    "conditions": [
                        {
                            "label": "converted",
                            "expression": "outcome == 'conversion'",
                            "targetStepId": "thanks",
                        },
                        {"label": "clicked", "expression": "outcome == 'click'", "targetStepId": "follow_up"},
                    ],
                    "defaultStepId": "reminder",
                },
            },
            send_step("thanks"),
            send_step("follow_up"),
            send_step("reminder"),
        ]
    )
    ids = dict(
        zip(
            ["converts", "clicks", "ignores"],
            enroll(engine, journey_id, "converts", "clicks", "ignores"),
            strict=True,
        )
    )
    runner.run_due(engine)
    dispatcher.dispatch_due(engine)
    first = {cid: deliveries.inbox(engine, cid)["data"][0] for cid in ids}
    responses.record_response(engine, "click", delivery_id=first["clicks"]["deliveryId"])
    responses.record_response(engine, "click", delivery_id=first["converts"]["deliveryId"])
    clock.advance(hours=1)
    responses.record_response(engine, "conversion", delivery_id=first["converts"]["deliveryId"])
    clock.advance(days=2)
    runner.run_due(engine)
    last_step = {cid: state(engine, eid)["history"][-1]["stepId"] for cid, eid in ids.items()}
    assert last_step == {"converts": "thanks", "clicks": "follow_up", "ignores": "reminder"}
    route = state(engine, ids["clicks"])["history"][-2]
    assert route["detail"]["conditions"] == [
        {"label": "converted", "value": False},
        {"label": "clicked", "value": True},
    ]
    assert journey_counters(engine, journey_id)["edges"][("route", "reminder")] == 1


def test_branch_condition_failing_at_run_time_is_false_and_its_reason_recorded(engine: Engine) -> None:
    make_customers(engine, "c1")
    journey_id = make_journey(
        engine, [
            {
                "id": "b",
                "type": "branch",
                "config": {
                    "conditions": [
                        {"label": "rich", "expression": "customer.income > 1000", "targetStepId": "x"}
                    ],
                    "defaultStepId": "y",
                },
            },
            exit_step("x"),
            exit_step("y", "fallback"),
        ]
    )
    [eid] = enroll(engine, journey_id, "c1")
    runner.run_due(engine)
    [condition] = state(engine, eid)["history"][0]["detail"]["conditions"]
    assert condition["value"] is False and "income" in condition["error"]
    assert state(engine, eid)["exitReason"] == "fallback"


def test_branch_without_match_or_default_completes(engine: Engine) -> None:
    make_customers(engine, "c1")
    journey_id = make_journey(
        engine, [
            {
                "id": "b",
                "type": "branch",
                "config": {"conditions": [{"label": "never", "expression": "false", "targetStepId": "x"}]},
            },
            exit_step("x"),
        ]
    )
    [eid] = enroll(engine, journey_id, "c1")
    runner.run_due(engine)
    ended = state(engine, eid)
    assert (ended["status"], ended["history"][0]["outcome"]) == ("completed", "no_match")


def test_update_changes_the_customer_and_a_segment_join_enrolls_elsewhere(engine: Engine) -> None:
    from engine.audience import segments
    from models.audience import SegmentIn

    make_customers(engine, "c1", points=1)
    segments.create_segment(engine, SegmentIn(id="loyal", name="Loyal", static=True))
    target = make_journey(engine, [wait("w", 1, "days")], name="loyalty",
                          entryConditions={"segmentId": "loyal"})
    journey_id = make_journey(
        engine, [
            {
                "id": "u",
                "type": "update",
                "next": "b",
                "config": {
                    "operations": [
                        {"op": "increment", "attribute": "points", "value": 10},
                        {"op": "addSegment", "segmentId": "loyal"},
                        {"op": "setFlag", "flag": "vip", "value": True},
                    ]
                },
            },
            {
                "id": "b",
                "type": "branch",
                "config": {
                    "conditions": [
                        {
                            "label": "rich",
                            "expression": "customer.points == 11 && customer.flags.vip",
                            "targetStepId": "x",
                        }
                    ]
                },
            },
            exit_step("x", "updated"),
        ]
    )
    [eid] = enroll(engine, journey_id, "c1")
    runner.run_due(engine)
    assert customers.get_customer(engine, "c1")["attributes"]["points"] == 11
    assert state(engine, eid)["exitReason"] == "updated"
    assert enrollments.list_enrollments(engine, journey_id=target)["pagination"]["total"] == 1


def test_split_is_deterministic_per_enrollment_and_follows_the_percentages(engine: Engine) -> None:
    ids = [f"c{i}" for i in range(200)]
    make_customers(engine, *ids)
    journey_id = make_journey(
        engine, [
            {
                "id": "s",
                "type": "split",
                "config": {
                    "paths": [
                        {"label": "A", "percent": 25, "targetStepId": "a"},
                        {"label": "B", "percent": 75, "targetStepId": "b"},
                    ]
                },
            },
            exit_step("a", "A"),
            exit_step("b", "B"),
        ]
    )
    enrollment_ids = enroll(engine, journey_id, *ids)
    runner.run_due(engine)
    taken = {eid: state(engine, eid)["exitReason"] for eid in enrollment_ids[:20]}
    assert all(taken[eid] == ("A" if roll(eid, "s") < 25 else "B") for eid in taken)
    counts = journey_counters(engine, journey_id)["totals"]
    assert 30 <= counts["exited:A"] <= 70 and counts["exited:A"] + counts["exited:B"] == 200


def test_exit_step_ends_with_its_reason(engine: Engine) -> None:
    make_customers(engine, "c1")
    journey_id = make_journey(
        # An exit's `next` is ignored (validation warns; it is no edge of the graph either).
        engine, [{**exit_step("x", "not_interested"), "next": "x"}]
    )
    [eid] = enroll(engine, journey_id, "c1")
    runner.run_due(engine)
    assert (state(engine, eid)["status"], state(engine, eid)["exitReason"], state(engine, eid)["stepId"]) == (
        "exited",
        "not_interested",
        "x",
    )


def test_a_failing_step_marks_only_its_enrollment_failed_and_retry_resumes_it(engine: Engine) -> None:
    make_customers(engine, "good", "good2", points=1)
    make_customers(engine, "bad", points="lots")
    journey_id = make_journey(
        engine, [
            wait("w", 1, "hours", "u"),
            {
                "id": "u",
                "type": "update",
                "next": "x",
                "config": {"operations": [{"op": "increment", "attribute": "points", "value": 1}]},
            },
            exit_step("x", "done"),
        ]
    )
    ids = dict(zip(["good", "bad", "good2"], enroll(engine, journey_id, "good", "bad", "good2"), strict=True))
    runner.run_due(engine)
    clock_advance(engine, hours=1)
    runner.run_due(engine)
    failed = state(engine, ids["bad"])
    assert (failed["status"], failed["stepId"]) == ("failed", "u")
    assert "increment needs numbers" in failed["error"]
    assert failed["history"][-1]["outcome"] == "failed"
    assert {state(engine, ids[c])["status"] for c in ("good", "good2")} == {"exited"}
    assert customers.get_customer(engine, "good")["attributes"]["points"] == 2
    assert journey_counters(engine, journey_id)["totals"]["failed"] == 1
    with pytest.raises(Conflict):
        enrollments.retry_enrollment(engine, ids["good"])
    customers.update_customer(engine, "bad", CustomerUpdate(attributes={"points": 5}))
    assert enrollments.retry_enrollment(engine, ids["bad"])["status"] == "active"
    runner.run_due(engine)
    assert state(engine, ids["bad"])["status"] == "exited"
    assert customers.get_customer(engine, "bad")["attributes"]["points"] == 6
    counts = journey_counters(engine, journey_id)
    assert counts["totals"]["failed"] == 0 and counts["steps"]["u"] == (0, 3)


def test_failure_after_a_send_keeps_the_delivery_of_the_steps_before_it(engine: Engine) -> None:
    make_offers(engine)
    make_customers(engine, "c1", age=30, points="lots")
    journey_id = make_journey(
        engine, [
            decide_step("mail"),
            send_step("mail", "boom"),
            {
                "id": "boom",
                "type": "update",
                "config": {"operations": [{"op": "increment", "attribute": "points", "value": 1}]},
            },
        ]
    )
    [eid] = enroll(engine, journey_id, "c1")
    runner.run_due(engine)
    assert (state(engine, eid)["status"], state(engine, eid)["stepId"]) == ("failed", "boom")
    with engine.session() as s:
        assert len(s.execute(select(Delivery)).all()) == 1


def clock_advance(engine: Engine, **delta: float) -> None:
    engine.clock.advance(**delta)  # type: ignore[attr-defined]
