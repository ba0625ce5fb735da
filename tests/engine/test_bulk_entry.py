"""Enrolling many customers by hand: any number of ids or a whole segment, in batches through the manual
entry, with skipped customers counted by reason and a refusal that says what to do."""

from __future__ import annotations

import pytest

from engine.access import roles
from engine.audience import segments
from engine.engine import Engine
from engine.errors import Conflict, Invalid, NotFound
from engine.journeys import lifecycle
from engine.runtime import bulk_entry, enrollments
from models.audience import SegmentIn
from tests.engine.test_runtime import exit_step, make_customers, make_journey, wait

STEPS = [wait("hold", 1, "days", "bye"), exit_step("bye")]


def active_ids(engine: Engine, journey_id: str) -> set[str]:
    page = enrollments.list_enrollments(engine, journey_id=journey_id, status="active", limit=200)
    return {item["customerId"] for item in page["data"]}


def test_enroll_customers_counts_enrolled_and_skipped_with_reasons(engine: Engine) -> None:
    make_customers(engine, "a", "b", "c")
    journey_id = make_journey(engine, STEPS)
    bulk_entry.enroll_customers(engine, journey_id, ["a"])
    answer = bulk_entry.enroll_customers(engine, journey_id, ["a", "b", "b", "ghost", "c"])
    assert answer["enrolled"] == 2
    assert answer["skipped"] == 3
    assert answer["skippedByReason"] == {"already_active": 1, "duplicate": 1, "unknown_customer": 1}
    assert {(item["customerId"], item["reason"]) for item in answer["skippedCustomers"]} == {
        ("a", "already_active"), ("b", "duplicate"), ("ghost", "unknown_customer")}
    assert answer["considered"] == 4
    assert active_ids(engine, journey_id) == {"a", "b", "c"}


def test_enroll_customers_in_batches_skips_repeats_across_batches(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk_entry, "BATCH", 2)
    make_customers(engine, "a", "b", "c", "d", "e")
    journey_id = make_journey(engine, STEPS, entryConditions={"reentry": "allow_multiple"})
    answer = bulk_entry.enroll_customers(engine, journey_id, ["a", "b", "c", "a", "d", "e", "e"])
    assert answer["enrolled"] == 5  # allow_multiple would have taken "a" twice across two batches
    assert answer["skippedByReason"] == {"duplicate": 2}
    assert active_ids(engine, journey_id) == {"a", "b", "c", "d", "e"}


def test_enroll_segment_enrolls_every_member_batch_by_batch(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk_entry, "BATCH", 2)
    make_customers(engine, "y1", "y2", "y3", "y4", "y5", age=20)
    make_customers(engine, "old", age=70)
    segments.create_segment(engine, SegmentIn(id="young", name="Young", rule="customer.age < 30"))
    journey_id = make_journey(engine, STEPS)
    bulk_entry.enroll_customers(engine, journey_id, ["y2"])
    answer = bulk_entry.enroll_segment(engine, journey_id, "young")
    assert answer["segment"] == {"id": "young", "name": "Young"}
    assert (answer["considered"], answer["enrolled"], answer["skippedByReason"]) == (
        5, 4, {"already_active": 1})
    assert active_ids(engine, journey_id) == {"y1", "y2", "y3", "y4", "y5"}


def test_enroll_segment_with_no_members_enrolls_no_one(engine: Engine) -> None:
    segments.create_segment(engine, SegmentIn(id="nobody", name="Nobody", static=True))
    journey_id = make_journey(engine, STEPS)
    answer = bulk_entry.enroll_segment(engine, journey_id, "nobody")
    assert (answer["considered"], answer["enrolled"], answer["skipped"]) == (0, 0, 0)


@pytest.mark.parametrize(("status", "hint"), [("draft", "activate it first"), ("paused", "resume it first"),
                                              ("archived", "takes no one")])
def test_journey_not_active_is_refused_saying_what_to_do(engine: Engine, status: str, hint: str) -> None:
    make_customers(engine, "a")
    journey_id = make_journey(engine, STEPS, activate=status != "draft")
    if status != "draft":
        lifecycle.change_status(engine, journey_id, status)
    with pytest.raises(Conflict, match=hint):
        bulk_entry.enroll_customers(engine, journey_id, ["a"])
    assert bulk_entry.enroll_refusal(status) is not None
    assert bulk_entry.enroll_refusal("active") is None
    assert active_ids(engine, journey_id) == set()


def test_journey_paused_between_batches_stops_and_says_so(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk_entry, "BATCH", 2)
    make_customers(engine, "a", "b", "c", "d", "e")
    journey_id = make_journey(engine, STEPS)
    real_enroll = bulk_entry.entry.enroll
    calls = []

    def enroll_then_pause(engine: Engine, journey: str, ids: list[str]) -> dict:
        calls.append(ids)
        answer = real_enroll(engine, journey, ids)
        if len(calls) == 1:
            lifecycle.change_status(engine, journey, "paused")
        return answer

    monkeypatch.setattr(bulk_entry.entry, "enroll", enroll_then_pause)
    answer = bulk_entry.enroll_customers(engine, journey_id, ["a", "b", "c", "d", "e"])
    assert answer["enrolled"] == 2
    assert answer["skippedByReason"] == {"journey_not_active": 3}
    assert "paused" in answer["stopped"]
    assert len(calls) == 2  # the third batch is not tried


def test_unknown_journey_or_segment_and_empty_list(engine: Engine) -> None:
    journey_id = make_journey(engine, STEPS)
    with pytest.raises(NotFound):
        bulk_entry.enroll_customers(engine, "jrn_missing", ["a"])
    with pytest.raises(NotFound):
        bulk_entry.enroll_segment(engine, journey_id, "seg_missing")
    with pytest.raises(Invalid):
        bulk_entry.enroll_customers(engine, journey_id, [])


def test_a_viewer_may_not_enroll(engine: Engine) -> None:
    make_customers(engine, "a")
    journey_id = make_journey(engine, STEPS)
    viewer = roles.Actor(kind="user", id="u1", name="v@example.test", role="viewer")
    with pytest.raises(roles.Forbidden):
        bulk_entry.enroll_customers(engine.as_actor(viewer), journey_id, ["a"])
    editor = roles.Actor(kind="user", id="u2", name="e@example.test", role="editor")
    assert bulk_entry.enroll_customers(engine.as_actor(editor), journey_id, ["a"])["enrolled"] == 1
