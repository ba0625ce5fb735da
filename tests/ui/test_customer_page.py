"""The customer pages under NiceGUI's simulated user: the list's readable columns and attribute chips; one
customer's typed attribute values, "Add to journey", journeys, inbox, deliveries and timeline, and the
"No … yet" notes when there is nothing."""

from __future__ import annotations

from typing import Any

import pytest
from nicegui import ui
from nicegui.testing import User

from engine.audience import customers, events
from engine.delivery import dispatcher
from engine.engine import Engine
from engine.journeys import lifecycle
from engine.runtime import entry, runner
from models.audience import CustomerIn, EventIn
from models.journey import JourneyCreate
from tests.delivery_kit import seed_channel, seed_offer
from tests.ui.conftest import sign_in
from tests.ui.kit import eventually, one
from tests.ui.test_login import add_user

STEPS: list[dict[str, Any]] = [
    {"id": "greet", "type": "send", "name": "Say hello",
     "config": {"channelId": "ch_app", "offerId": "off_tea"}, "next": "hold"},
    {"id": "hold", "type": "wait", "name": "Give it a day", "config": {"duration": 1, "unit": "days"},
     "next": "bye"},
    {"id": "bye", "type": "exit", "name": "Done", "config": {"reason": "done"}},
]
ANN = {"name": "Ann Lee", "email": "ann@x.test", "age": 36, "spend": 1234.5, "vip": True,
       "tags": ["tea", "cake"], "address": {"city": "Oslo", "zip": "0150"}}


def add_ann(engine: Engine) -> None:
    customers.create_customer(engine, CustomerIn(id="ann", attributes=ANN))


def welcome(engine: Engine, activate: bool = True) -> str:
    seed_channel(engine, "ch_app", "in_app", {})
    seed_offer(engine, "off_tea", creatives={"in_app": {"subject": "Tea for {{ customer.name }}?",
                                                "body": "Ten percent off\n<b>today</b>"}})
    journey = lifecycle.create_journey(
        engine, JourneyCreate.model_validate({"name": "Welcome", "steps": STEPS}))
    if activate:
        lifecycle.change_status(engine, journey.id, "active")
    return journey.id


def rows(user: User, marker: str) -> list[dict[str, Any]]:
    tables = [element for element in user.find(marker=marker).elements if isinstance(element, ui.table)]
    assert len(tables) == 1
    return tables[0].rows


async def test_list_shows_name_email_and_attribute_chips(engine: Engine, user: User) -> None:
    add_ann(engine)
    await user.open("/customers")
    await user.should_see("1 customer")
    [row] = rows(user, "customers-table")
    assert (row["name"], row["email"]) == ("Ann Lee", "ann@x.test")
    assert row["attributes"] == ["address: city: Oslo; zip: 0150", "age: 36", "spend: 1234.5",
                                 "tags: tea, cake", "vip: yes"]


async def test_detail_shows_typed_values_and_empty_notes(engine: Engine, user: User) -> None:
    add_ann(engine)
    await user.open("/customers/ann")
    await user.should_see("Ann Lee")
    shown = {row["key"]: (row["value"], row["kind"]) for row in rows(user, "attributes-table")}
    assert shown == {
        "address": ("city: Oslo; zip: 0150", "object"), "age": ("36", "number"),
        "email": ("ann@x.test", "text"), "name": ("Ann Lee", "text"), "spend": ("1234.5", "number"),
        "tags": ("tea, cake", "list"), "vip": ("yes", "yes/no")}
    for note in ("No journeys yet.", "No deliveries yet.", "No in-app messages yet.",
                 "Nothing has happened yet.", "In no segment yet.", "No flags yet."):
        await user.should_see(note)


async def test_journeys_inbox_deliveries_and_timeline(engine: Engine, user: User) -> None:
    add_ann(engine)
    journey_id = welcome(engine)
    events.accept(engine, [EventIn(customer_id="ann", type="login", properties={"device": "phone"})])
    entry.enroll(engine, journey_id, ["ann"])
    runner.run_due(engine)
    dispatcher.dispatch_due(engine)
    await user.open("/customers/ann")
    await eventually(lambda: len(rows(user, "customer-journeys")) == 1)
    [journey] = rows(user, "customer-journeys")
    assert (journey["journey"], journey["journeyId"], journey["status"], journey["step"]) == (
        "Welcome", journey_id, "active", "Give it a day")
    await user.should_see("Tea for Ann Lee?")
    await user.should_see("Ten percent off\n<b>today</b>")  # as written: never rendered as HTML
    await user.should_see("unread")
    [delivery] = rows(user, "customer-deliveries")
    assert (delivery["channel"], delivery["message"], delivery["journey"], delivery["status"]) == (
        "ch_app", "Green tea", "Welcome · Say hello", "sent")
    await user.should_see("Welcome · Give it a day: waiting → Done")
    await user.should_see("Welcome · Say hello: queued → Give it a day")
    sentences = [label.text for label in user.find(marker="timeline-sentence").elements]
    # The simulated user finds elements as a set: compare them without order.
    assert sorted(sentences) == ["Send 'Say hello' via 'ch_app', offer 'Green tea'", "Wait 1 day"]
    await user.should_see("Entered Welcome")
    await user.should_see("Event: login")
    await user.should_see("device: phone")
    await user.should_not_see("No journeys yet.")


async def test_add_to_journey_enrolls_and_says_why_not_the_second_time(engine: Engine, user: User) -> None:
    add_ann(engine)
    welcome(engine)
    lifecycle.create_journey(engine, JourneyCreate.model_validate({"name": "Still a draft", "steps": STEPS}))
    await user.open("/customers/ann")
    await user.should_see("No journeys yet.")
    user.find(marker="add-to-journey").click()
    await eventually(lambda: one(user, "add-journey").options)
    assert list(one(user, "add-journey").options.values()) == ["Welcome"]  # only active journeys
    user.find(marker="add-journey").click()
    user.find("Welcome").click()
    user.find(marker="add-submit").click()
    await user.should_see("Added to Welcome.")
    await eventually(lambda: [row["journey"] for row in rows(user, "customer-journeys")] == ["Welcome"])
    await user.should_see("Entered Welcome")
    user.find(marker="add-submit").click()
    await user.should_see("Not added to Welcome: already in this journey.")


async def test_add_to_journey_without_active_journeys_says_so(engine: Engine, user: User) -> None:
    add_ann(engine)
    welcome(engine, activate=False)
    await user.open("/customers/ann")
    user.find(marker="add-to-journey").click()
    await user.should_see("No active journey yet: activate one to add customers to it.")
    assert not one(user, "add-submit").enabled


async def test_unknown_customer_says_so(user: User) -> None:
    await user.open("/customers/nobody")
    await user.should_see("customer nobody not found")


class TestViewer:
    @pytest.fixture
    def sign_in_as(self) -> None:
        return None

    async def test_a_viewer_may_not_add_to_journey_and_is_told_why(self, engine: Engine, user: User) -> None:
        add_ann(engine)
        await sign_in(user, *add_user(engine, "viewer"))
        await user.open("/customers/ann")
        await user.should_see("Ann Lee")
        assert not one(user, "add-to-journey").enabled
        assert one(user, "add-to-journey-tooltip").text == (
            "Editors and admins may enroll customers; you are a viewer.")
        assert not one(user, "edit-customer").enabled


def test_values_read_as_written() -> None:
    from ui.pages.customer_values import chips, display_value, kind_of

    assert [display_value(v) for v in ("x", 3, 2.50, 1e-7, False, None, [], {}, [[1, 2], {"a": 1}])] == [
        "x", "3", "2.5", "0", "no", "—", "(empty list)", "(empty)", '[1,2], {"a":1}']
    assert display_value("2026-01-05T09:00:05.123Z") == "2026-01-05 09:00:05"
    assert display_value("2026-01-05 is a date") == "2026-01-05 is a date"
    assert [kind_of(v) for v in ("x", 3, 2.5, True, None, [1], {"a": 1})] == [
        "text", "number", "number", "yes/no", "empty", "list", "object"]
    assert chips({"b": "x" * 50, "a": 1, "c": 2}, most=2) == ["a: 1", "b: " + "x" * 39 + "…", "+1 more"]
