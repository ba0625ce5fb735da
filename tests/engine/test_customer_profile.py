"""What the customer page reads: journeys with step names, deliveries with channel and offer names, a
timeline merging events and journey history newest first, and the picker's search by id, e-mail or name."""

from __future__ import annotations

from typing import Any

import pytest

from engine.audience import customer_search, events
from engine.clock import VirtualClock
from engine.delivery import deliveries, dispatcher
from engine.engine import Engine
from engine.errors import NotFound
from engine.monitoring import customer_profile
from engine.runtime import entry, runner
from models.audience import EventIn
from tests.delivery_kit import seed_channel, seed_customer, seed_offer
from tests.engine.test_runtime import make_customers, make_journey

STEPS: list[dict[str, Any]] = [
    {"id": "greet", "type": "send", "name": "Say hello",
     "config": {"channelId": "ch_app", "offerId": "off_tea"}, "next": "hold"},
    {"id": "hold", "type": "wait", "name": "Give it a day", "config": {"duration": 1, "unit": "days"},
     "next": "bye"},
    {"id": "bye", "type": "exit", "name": "Done", "config": {"reason": "done"}},
]


@pytest.fixture
def greeted(engine: Engine, clock: VirtualClock) -> str:
    """Ann, in the journey "Welcome" at its wait, after an in-app message and a 'login' event."""
    seed_customer(engine, "ann")
    seed_channel(engine, "ch_app", "in_app", {})
    seed_offer(engine, "off_tea",
               creatives={"in_app": {"subject": "Tea, {{ customer.name }}?", "body": "Ten off"}})
    journey_id = make_journey(engine, STEPS, name="Welcome")
    events.accept(engine, [EventIn(customer_id="ann", type="login", properties={"device": "phone"})])
    clock.advance(seconds=5)
    entry.enroll(engine, journey_id, ["ann"])
    runner.run_due(engine)
    dispatcher.dispatch_due(engine)
    return journey_id


def test_customer_journeys_name_the_journey_and_the_step(engine: Engine, greeted: str) -> None:
    page = customer_profile.customer_journeys(engine, "ann")
    assert page["pagination"]["total"] == 1
    [item] = page["data"]
    assert (item["journeyName"], item["journeyStatus"], item["status"], item["stepName"]) == (
        "Welcome", "active", "active", "Give it a day")


def test_deliveries_name_channel_offer_and_step(engine: Engine, greeted: str) -> None:
    [item] = customer_profile.customer_deliveries(engine, "ann")["data"]
    shown = ("channelName", "offerName", "journeyName", "stepName", "status")
    assert [item[key] for key in shown] == ["ch_app", "Green tea", "Welcome", "Say hello", "sent"]
    assert deliveries.inbox(engine, "ann")["data"][0]["subject"] == "Tea, Ann?"


def test_timeline_merges_events_and_history_newest_first(
        engine: Engine, greeted: str, clock: VirtualClock) -> None:
    clock.advance(days=2)
    runner.run_due(engine)
    timeline = customer_profile.customer_timeline(engine, "ann")
    kinds = [(item["kind"], item.get("stepName") or item.get("eventType")) for item in timeline["data"]]
    assert kinds == [
        ("step", "Done"),           # the exit step, two days later
        ("step", "Give it a day"),  # parked at the wait, then on to "Done"
        ("step", "Say hello"),
        ("entered", None),          # ended by now: no current step
        ("event", "login"),
    ]
    assert timeline["hasMore"] is False
    assert timeline["data"][-2]["journeyName"] == "Welcome"
    assert timeline["data"][2]["nextStepName"] == "Give it a day"
    assert timeline["data"][1]["nextStepName"] == "Done"


def test_timeline_is_limited(engine: Engine, greeted: str) -> None:
    timeline = customer_profile.customer_timeline(engine, "ann", limit=2)
    assert len(timeline["data"]) == 2
    assert timeline["hasMore"] is True


def test_step_names_come_from_older_versions_too(engine: Engine, greeted: str) -> None:
    from engine.journeys import lifecycle, names
    from models.journey import JourneyUpdate

    lifecycle.change_status(engine, greeted, "paused")
    renamed = [{**step, "name": "Hi there"} if step["id"] == "greet" else step for step in STEPS]
    lifecycle.update_journey(engine, greeted, JourneyUpdate.model_validate({"steps": renamed}))
    with engine.db.reader() as s:
        journeys = names.journeys_named(s, {greeted})
        assert names.step_names(s, journeys)[greeted]["greet"] == "Hi there"  # the current wins


def test_unknown_customer_is_not_found(engine: Engine) -> None:
    for read in (customer_profile.customer_journeys, customer_profile.customer_deliveries,
                 customer_profile.customer_timeline):
        with pytest.raises(NotFound):
            read(engine, "nobody")


def test_empty_customer_has_empty_pages(engine: Engine) -> None:
    make_customers(engine, "quiet")
    assert customer_profile.customer_journeys(engine, "quiet")["data"] == []
    assert customer_profile.customer_deliveries(engine, "quiet")["data"] == []
    assert customer_profile.customer_timeline(engine, "quiet") == {"data": [], "hasMore": False}


def test_find_customers_by_id_email_or_name(engine: Engine) -> None:
    seed_customer(engine, "c1", name="Grace Hopper", email="grace@navy.example")
    seed_customer(engine, "c2", name="Ada", email="ada@engines.example")
    seed_customer(engine, "c3", name=None, firstName="Alan", lastName="Turing",
                  email="alan@bletchley.example")
    seed_customer(engine, "zz_grace_fan", name="Fan", email="fan@example.com")
    found = customer_search.find_customers(engine, "grace")["data"]
    assert [c["id"] for c in found] == ["c1", "zz_grace_fan"]
    assert [c["id"] for c in customer_search.find_customers(engine, "ENGINES")["data"]] == ["c2"]
    found = customer_search.find_customers(engine, "turing")["data"]
    assert found == [{"id": "c3", "name": "Alan Turing", "email": "alan@bletchley.example"}]
    assert [c["id"] for c in customer_search.find_customers(engine, "c")["data"]][:3] == ["c1", "c2", "c3"]
    page = customer_search.find_customers(engine, "", limit=2)
    assert (len(page["data"]), page["hasMore"]) == (2, True)
    assert customer_search.find_customers(engine, "100%")["data"] == []  # taken literally


def test_find_customers_does_not_match_attribute_names(engine: Engine) -> None:
    seed_customer(engine, "c1", name="Bea", email="bea@example.com", country="DE")
    assert customer_search.find_customers(engine, "country")["data"] == []
