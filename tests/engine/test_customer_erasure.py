"""Deleting a customer erases them: a customer created later under the same id inherits nothing, a message
still queued for them is never sent, the journeys' figures stay as they were, no row keeps the id or what
it said about them, the deletion is audited, and a refused deletion erases nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel

from engine.access import audit
from engine.access.roles import Actor, Forbidden
from engine.audience import customers, events, segments
from engine.clock import VirtualClock
from engine.delivery import deliveries, dispatcher, responses
from engine.engine import Engine
from engine.monitoring import customer_profile, goals
from engine.runtime import enrollments, entry, runner
from models.audience import CUSTOMER_ID_PATTERN, CustomerIn, Event, EventIn, SegmentIn
from models.channels import Delivery
from models.enrollment import Enrollment, EnrollmentHistory
from tests.delivery_kit import seed_channel, seed_offer
from tests.engine.test_runtime import journey_counters, make_journey

ADMIN = Actor(kind="user", id="usr_ada", name="ada@example.com", role="admin")
EDITOR = Actor(kind="user", id="usr_ed", name="ed@example.com", role="editor")
STEPS: list[dict[str, Any]] = [
    {"id": "greet", "type": "send", "config": {"channelId": "ch_app", "offerId": "off_tea"}, "next": "hold"},
    {"id": "hold", "type": "wait", "config": {"duration": 1, "unit": "days"}, "next": "remind"},
    {"id": "remind", "type": "send", "config": {"channelId": "ch_app", "offerId": "off_tea"},
     "next": "linger"},
    {"id": "linger", "type": "wait", "config": {"duration": 1, "unit": "days"}, "next": "bye"},
    {"id": "bye", "type": "exit", "config": {"reason": "done"}},
]


@pytest.fixture
def ann(engine: Engine, clock: VirtualClock) -> str:
    """Ann at the journey's second wait: an in-app message sent and read, a reminder queued (unsent), a
    `login` event (the journey's goal) and a static segment. Answers the journey's id."""
    seed_channel(engine, "ch_app", "in_app", {})
    seed_offer(engine, "off_tea",
               creatives={"in_app": {"subject": "Tea, {{ customer.name }}?", "body": "Ten off"}})
    segments.create_segment(engine, SegmentIn(id="vip", name="VIP", static=True))
    customers.create_customer(engine, CustomerIn(id="ann", attributes={"name": "Ann"}))
    segments.change_members(engine, "vip", add=["ann"], remove=[])
    journey_id = make_journey(engine, STEPS, name="Welcome", goal={"eventType": "login", "withinDays": 7})
    entry.enroll(engine, journey_id, ["ann"])
    events.accept(engine, [EventIn(customer_id="ann", type="login", properties={"device": "phone"})])
    runner.run_due(engine)
    dispatcher.dispatch_due(engine)
    [message] = deliveries.inbox(engine, "ann")["data"]
    responses.mark_read(engine, "ann", message["id"])
    clock.advance(days=1)
    runner.run_due(engine)
    assert deliveries.status_counts(engine)["queued"] == 1
    return journey_id


def test_a_customer_created_again_under_a_deleted_id_starts_with_nothing(engine: Engine, ann: str) -> None:
    customers.delete_customer(engine, "ann")
    customers.create_customer(engine, CustomerIn(id="ann"))
    assert customer_profile.customer_journeys(engine, "ann")["data"] == []
    assert enrollments.customer_journeys(engine, "ann") == []
    assert customer_profile.customer_deliveries(engine, "ann")["data"] == []
    assert customer_profile.customer_timeline(engine, "ann")["data"] == []
    assert deliveries.inbox(engine, "ann")["data"] == []
    assert events.list_events(engine, customer_id="ann")["data"] == []
    assert responses.list_responses(engine, customer_id="ann")["data"] == []
    assert segments.customer_segments(engine, "ann") == []


def test_a_deleted_customers_queued_delivery_is_never_sent(
        engine: Engine, ann: str, clock: VirtualClock) -> None:
    customers.delete_customer(engine, "ann")
    customers.create_customer(engine, CustomerIn(id="ann"))
    clock.advance(hours=1)
    assert dispatcher.dispatch_due(engine) == 0
    assert deliveries.inbox(engine, "ann")["data"] == []
    [cancelled] = deliveries.list_deliveries(engine, status="suppressed")["data"]
    assert (cancelled["stepId"], cancelled["lastError"]) == ("remind", "customer deleted")


def test_deleting_a_customer_keeps_the_journeys_figures(engine: Engine, ann: str) -> None:
    before, goal = journey_counters(engine, ann), goals.journey_goal(engine, ann)["overall"]
    assert (goal["n"], goal["conversions"]) == (1, 1)
    customers.delete_customer(engine, "ann")
    after = journey_counters(engine, ann)
    assert goals.journey_goal(engine, ann)["overall"] == goal
    # The one change: the enrollment left the wait it was at, exited because its customer was deleted.
    assert after["steps"]["linger"] == (0, before["steps"]["linger"][1])
    assert after["totals"]["entered"] == before["totals"]["entered"] == 1
    assert after["totals"]["exited:customer_deleted"] == 1
    assert after["edges"] == before["edges"]
    assert deliveries.status_counts(engine) == {"queued": 0, "sent": 1, "failed": 0, "suppressed": 1}
    assert enrollments.list_enrollments(engine, journey_id=ann)["pagination"]["total"] == 1
    assert responses.list_responses(engine)["pagination"]["total"] == 1


def test_no_row_keeps_the_deleted_customers_id_or_what_it_said_about_them(engine: Engine, ann: str) -> None:
    customers.delete_customer(engine, "ann")
    holders = [table for table in SQLModel.metadata.sorted_tables if "customer_id" in table.c]
    with engine.session() as s:
        assert {table.name for table in holders if s.execute(
            select(table.c.customer_id).where(table.c.customer_id == "ann").limit(1)).first()} == set()
        pseudonyms = {value for table in holders
                      for value in s.execute(select(table.c.customer_id)).scalars()}
        erased_deliveries = [tuple(row) for row in s.execute(
            select(Delivery.subject, Delivery.body, Delivery.payload))]
        contexts = set(map(repr, s.execute(select(Enrollment.context)).scalars()))
        details = set(map(repr, s.execute(select(EnrollmentHistory.detail)).scalars()))
        properties = set(map(repr, s.execute(select(Event.properties)).scalars()))
    # One pseudonym for all of it, and one no customer can ever be created under.
    [pseudonym] = pseudonyms
    assert re.match(CUSTOMER_ID_PATTERN, pseudonym) is None
    assert erased_deliveries == [(None, None, {})] * 2
    assert contexts == details == properties == {"{}"}


def test_deleting_a_customer_is_audited_with_what_was_erased(engine: Engine, ann: str) -> None:
    customers.delete_customer(engine.as_actor(ADMIN), "ann")
    [entry_] = audit.list_entries(engine, entity_type="customer")["data"]
    assert (entry_["actor"], entry_["action"], entry_["entityId"]) == (
        "user:ada@example.com", "deleted", "ann")
    assert entry_["details"] == {"erased": {
        "enrollments": 1, "history": 5, "events": 1, "deliveries": 2, "cancelledDeliveries": 1,
        "responses": 1, "inboxMessages": 1, "segmentChanges": 2}}


def test_a_refused_delete_erases_nothing(engine: Engine, ann: str) -> None:
    with pytest.raises(Forbidden):
        customers.delete_customer(engine.as_actor(EDITOR), "ann")
    assert customers.get_customer(engine, "ann")["segments"] == ["vip"]
    journeys = customer_profile.customer_journeys(engine, "ann")["data"]
    assert [item["status"] for item in journeys] == ["active"]
    assert deliveries.status_counts(engine)["queued"] == 1
    assert len(deliveries.inbox(engine, "ann")["data"]) == 1
    assert len(events.list_events(engine, customer_id="ann")["data"]) == 1


def test_a_message_in_flight_when_its_customer_is_erased_never_reaches_an_inbox(
        engine: Engine, ann: str, monkeypatch: pytest.MonkeyPatch) -> None:
    write = dispatcher._write

    def erased_meanwhile(engine: Engine, inbox: list[dict[str, Any]], pending: list[Any]) -> None:
        # The round has sent (staged) the reminder; the customer is deleted before it is recorded.
        customers.delete_customer(engine.as_actor(ADMIN), "ann")
        write(engine, inbox, pending)

    monkeypatch.setattr(dispatcher, "_write", erased_meanwhile)
    assert dispatcher.dispatch_due(engine) == 1
    customers.create_customer(engine, CustomerIn(id="ann"))
    assert deliveries.inbox(engine, "ann")["data"] == []
    assert deliveries.status_counts(engine)["suppressed"] == 1
