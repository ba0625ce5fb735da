"""Enrolling customers from the journey's pages (NiceGUI's simulated user): the Enroll action on the
monitor and in the editor, picking by search, by segment and by pasted ids, the answer with enrolled and
skipped counts and reasons, and the action disabled with the reason for drafts, paused journeys, viewers."""

from __future__ import annotations

from typing import Any

import pytest
from nicegui.testing import User

from engine.audience import customers, segments
from engine.engine import Engine
from engine.journeys import lifecycle
from engine.runtime import enrollments
from models.audience import CustomerIn, SegmentIn
from models.journey import JourneyCreate
from tests.ui.conftest import sign_in
from tests.ui.kit import eventually, one
from tests.ui.test_login import add_user

STEPS: list[dict[str, Any]] = [
    {"id": "hold", "type": "wait", "name": "Hold on", "config": {"duration": 1, "unit": "days"},
     "next": "bye"},
    {"id": "bye", "type": "exit", "name": "Bye", "config": {"reason": "done"}},
]


def journey(engine: Engine, status: str = "active", **fields: Any) -> str:
    created = lifecycle.create_journey(
        engine, JourneyCreate.model_validate({"name": "Welcome", "steps": STEPS, **fields}))
    if status != "draft":
        lifecycle.change_status(engine, created.id, "active")
    if status == "paused":
        lifecycle.change_status(engine, created.id, "paused")
    return created.id


def people(engine: Engine) -> None:
    for cid, name, age in (("ann", "Ann Lee", 24), ("bob", "Bob Stone", 52), ("cai", "Cai Annsen", 27)):
        customers.create_customer(engine, CustomerIn(
            id=cid, attributes={"name": name, "email": f"{cid}@x.test", "age": age}))


def enrolled(engine: Engine, journey_id: str) -> set[str]:
    page = enrollments.list_enrollments(engine, journey_id=journey_id, limit=200)
    return {item["customerId"] for item in page["data"]}


async def open_dialog(user: User, path: str) -> None:
    await user.open(path)
    await eventually(lambda: one(user, "enroll").enabled)  # the binding follows the page's status
    user.find(marker="enroll").click()
    await user.should_see("Enroll customers into Welcome")


async def test_enroll_by_search_from_the_monitor(engine: Engine, user: User) -> None:
    people(engine)
    journey_id = journey(engine)
    await open_dialog(user, f"/journeys/{journey_id}/monitor")
    user.find(marker="enroll-search").type("ann")  # Ann by id and name, Cai by name
    table = one(user, "enroll-results")
    await eventually(lambda: [row["id"] for row in table.rows] == ["ann", "cai"])
    user.find(marker="enroll-results").trigger("selection", {"added": True, "rows": table.rows,
                                                             "keys": ["ann", "cai"]})
    await user.should_see("2 selected:")
    user.find(marker="enroll-search").clear().type("bob")
    await eventually(lambda: [row["id"] for row in table.rows] == ["bob"])
    assert table.selected == []  # bob is not picked; ann and cai stay picked
    user.find(marker="enroll-submit").click()
    await user.should_see("Enrolled 2 customers.")
    assert enrolled(engine, journey_id) == {"ann", "cai"}


async def test_enroll_a_segment_reports_skipped_with_reasons(engine: Engine, user: User) -> None:
    people(engine)
    segments.create_segment(engine, SegmentIn(id="young", name="Young", rule="customer.age < 30"))
    journey_id = journey(engine)
    await open_dialog(user, f"/journeys/{journey_id}/monitor")
    user.find(marker="enroll-tab-segment").click()
    user.find(marker="enroll-segment").click()
    user.find("Young (2 members)").click()
    user.find(marker="enroll-submit").click()
    await user.should_see("Enrolled 2 customers.")
    user.find(marker="enroll-submit").click()
    await user.should_see("Enrolled 0 customers.")
    await user.should_see("Skipped 2: 2 already in this journey.")
    assert enrolled(engine, journey_id) == {"ann", "cai"}


async def test_enroll_pasted_ids_from_the_editor_names_unknown_ones(engine: Engine, user: User) -> None:
    people(engine)
    journey_id = journey(engine)
    await open_dialog(user, f"/journeys/{journey_id}")
    user.find(marker="enroll-tab-ids").click()
    user.find(marker="enroll-ids").type("ann, bob\nghost\nann")
    user.find(marker="enroll-submit").click()
    await user.should_see("Enrolled 2 customers.")
    await user.should_see("Skipped 2: 1 listed more than once; 1 no such customer.")
    await user.should_see("ann (listed more than once), ghost (no such customer)")


async def test_submitting_nothing_asks_for_customers(engine: Engine, user: User) -> None:
    journey_id = journey(engine)
    await open_dialog(user, f"/journeys/{journey_id}/monitor")
    user.find(marker="enroll-submit").click()
    await user.should_see("pick at least one customer")
    user.find(marker="enroll-tab-segment").click()
    user.find(marker="enroll-submit").click()
    await user.should_see("pick a segment")


async def test_journey_paused_after_the_dialog_opened_says_resume_first(engine: Engine, user: User) -> None:
    people(engine)
    journey_id = journey(engine)
    await open_dialog(user, f"/journeys/{journey_id}/monitor")
    lifecycle.change_status(engine, journey_id, "paused")
    user.find(marker="enroll-tab-ids").click()
    user.find(marker="enroll-ids").type("ann")
    user.find(marker="enroll-submit").click()
    await user.should_see("This journey is paused: resume it first.")
    assert enrolled(engine, journey_id) == set()


@pytest.mark.parametrize(("status", "page", "reason"), [
    ("draft", "", "This journey is a draft: activate it first."),
    ("paused", "/monitor", "This journey is paused: resume it first."),
])
async def test_enroll_is_disabled_with_the_reason_when_not_active(
        engine: Engine, user: User, status: str, page: str, reason: str) -> None:
    journey_id = journey(engine, status)
    await user.open(f"/journeys/{journey_id}{page}")
    await eventually(lambda: one(user, "enroll-tooltip").text == reason)
    assert not one(user, "enroll").enabled


async def test_editor_enroll_follows_activation(engine: Engine, user: User) -> None:
    journey_id = journey(engine, "draft")
    await user.open(f"/journeys/{journey_id}")
    await eventually(lambda: one(user, "enroll-tooltip").text.endswith("activate it first."))
    user.find(marker="activate").click()
    await eventually(lambda: one(user, "enroll").enabled)


class TestViewer:
    @pytest.fixture
    def sign_in_as(self) -> None:
        return None

    async def test_a_viewer_sees_enroll_disabled_and_why(self, engine: Engine, user: User) -> None:
        journey_id = journey(engine)
        await sign_in(user, *add_user(engine, "viewer"))
        await user.open(f"/journeys/{journey_id}/monitor")
        await eventually(lambda: one(user, "enroll-tooltip").text
                         == "Editors and admins may enroll customers; you are a viewer.")
        assert not one(user, "enroll").enabled


def test_ids_are_read_from_lists_and_csv_files() -> None:
    from ui.components.enroll_dialog import parse_ids

    assert parse_ids("a, b;c\n d\t'e'\n\n") == ["a", "b", "c", "d", "e"]
    assert parse_ids("id\nann\nbob\n") == ["ann", "bob"]
    assert parse_ids('name,customerId,age\n"Ann",ann,3\nBob,bob,4\n,,\n') == ["ann", "bob"]
    assert parse_ids("email;ID\nx@y;ann\n") == ["ann"]
    assert parse_ids("") == []


def test_outcome_lines_say_what_happened() -> None:
    from ui.components.enroll_dialog import outcome_lines

    answer = {"enrolled": 1, "skipped": 12, "considered": 13, "segment": None, "stopped": None,
              "skippedByReason": {"cooldown": 12},
              "skippedCustomers": [{"customerId": f"c{n}", "reason": "cooldown"} for n in range(12)]}
    lines = outcome_lines(answer)
    assert lines[0] == "Enrolled 1 customer."
    assert lines[1] == "Skipped 12: 12 entered too recently (re-entry cooldown)."
    assert lines[2].endswith("c9 (entered too recently (re-entry cooldown)) and 2 more")
    empty = {**answer, "enrolled": 0, "skipped": 0, "considered": 0, "segment": {"id": "s", "name": "Gold"},
             "skippedByReason": {}, "skippedCustomers": []}
    assert outcome_lines(empty) == ["The segment Gold has no members: no one enrolled."]

