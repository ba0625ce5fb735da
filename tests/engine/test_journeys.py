"""The journey lifecycle in the engine: status signals, paused edits against occupied steps, versions,
layout-only edits, deletion of everything a journey owns, and validating unsaved documents."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel

from engine import signals
from engine.audience import segments
from engine.clock import VirtualClock
from engine.delivery import deliveries, dispatcher, responses
from engine.engine import Engine
from engine.errors import Conflict, Invalid, NotFound
from engine.journeys import lifecycle
from engine.references import catalog
from engine.runtime import runner
from models.audience import Segment, SegmentIn
from models.channels import Channel, DeliveryAttempt
from models.enrollment import EdgeCounter, Enrollment, EnrollmentHistory, JourneyCounter, StepCounter
from models.journey import JourneyCreate, JourneyUpdate, JourneyVersion
from tests.delivery_kit import seed_channel, seed_offer
from tests.engine.test_runtime import enroll, make_customers, make_journey

STEPS = [
    {
        "id": "hello",
        "type": "update",
        "config": {"operations": [{"op": "setFlag", "flag": "greeted", "value": True}]},
        "next": "pause",
    },
    {"id": "pause", "type": "wait", "config": {"duration": 2, "unit": "days"}, "next": "bye"},
    {"id": "bye", "type": "exit", "config": {"reason": "done"}},
]


def create(engine: Engine, **fields: Any) -> str:
    body = {"name": "Welcome", "entryConditions": {"eventType": "signup"}, "steps": STEPS, **fields}
    return lifecycle.create_journey(engine, JourneyCreate.model_validate(body)).id


def add_enrollment(engine: Engine, journey_id: str, step_id: str, status: str = "active") -> None:
    with engine.session() as s:
        moment = engine.now()
        s.add(
            Enrollment(
                id=f"enr_{journey_id}_{step_id}_{status}",
                journey_id=journey_id,
                version=1,
                customer_id="c1",
                step_id=step_id,
                status=status,
                entered_at=moment,
                updated_at=moment,
            )
        )


@pytest.fixture
def received() -> Any:
    calls: list[dict[str, Any]] = []

    def receiver(**kwargs: Any) -> None:
        calls.append(
            {**kwargs, "status_in_row": kwargs["journey"].status, "paused_at": kwargs["journey"].paused_at}
        )

    signals.journey_status_changed.connect(receiver)
    yield calls
    signals.journey_status_changed.disconnect(receiver)


def test_every_status_change_sends_the_signal_inside_the_transaction(
    engine: Engine, clock: VirtualClock, received: list[dict[str, Any]]
) -> None:
    journey_id = create(engine)
    lifecycle.change_status(engine, journey_id, "active")
    clock.advance(hours=1)
    lifecycle.change_status(engine, journey_id, "paused")
    clock.advance(hours=3)
    lifecycle.change_status(engine, journey_id, "active", extend_waits=True)
    lifecycle.change_status(engine, journey_id, "archived")
    assert [(c["old"], c["new"]) for c in received] == [
        ("draft", "active"),
        ("active", "paused"),
        ("paused", "active"),
        ("active", "archived"),
    ]
    resume = received[2]
    assert resume["options"] == {"extend_waits": True}
    assert resume["status_in_row"] == "active"
    assert resume["paused_at"] == received[1]["now"]
    assert resume["now"] == clock.now()
    assert all(c["session"] is not None for c in received)


def test_a_failing_receiver_rolls_the_status_change_back(engine: Engine) -> None:
    journey_id = create(engine)

    def refuse(**_: Any) -> None:
        raise RuntimeError("runtime could not enroll")

    signals.journey_status_changed.connect(refuse)
    try:
        with pytest.raises(RuntimeError):
            lifecycle.change_status(engine, journey_id, "active")
    finally:
        signals.journey_status_changed.disconnect(refuse)
    assert lifecycle.get_journey(engine, journey_id).status == "draft"


def test_refused_transition_sends_nothing(engine: Engine, received: list[dict[str, Any]]) -> None:
    journey_id = create(engine)
    with pytest.raises(Conflict) as refused:
        lifecycle.change_status(engine, journey_id, "paused")
    assert refused.value.code == "invalid_transition"
    assert received == []


def test_pause_records_when_and_resume_clears_it(engine: Engine, clock: VirtualClock) -> None:
    journey_id = create(engine)
    lifecycle.change_status(engine, journey_id, "active")
    clock.advance(hours=5)
    paused = lifecycle.change_status(engine, journey_id, "paused")
    assert paused.paused_at == "2026-01-05T14:00:00.000Z"
    assert lifecycle.change_status(engine, journey_id, "active").paused_at is None


def test_unknown_status_is_invalid(engine: Engine) -> None:
    with pytest.raises(Invalid) as error:
        lifecycle.change_status(engine, create(engine), "running")
    assert error.value.details == {"field": "status"}


def test_paused_edit_cannot_remove_a_step_that_holds_customers(engine: Engine) -> None:
    journey_id = create(engine)
    lifecycle.change_status(engine, journey_id, "active")
    lifecycle.change_status(engine, journey_id, "paused")
    add_enrollment(engine, journey_id, "pause")
    add_enrollment(engine, journey_id, "hello", status="completed")
    without_pause = [{**STEPS[0], "next": "bye"}, STEPS[2]]
    with pytest.raises(Conflict) as refused:
        lifecycle.update_journey(engine, journey_id, JourneyUpdate.model_validate({"steps": without_pause}))
    assert refused.value.code == "steps_occupied"
    assert refused.value.details == {"steps": [{"stepId": "pause", "enrollments": 1}]}
    # A step that only held finished enrollments can go.
    without_hello = STEPS[1:]
    updated = lifecycle.update_journey(engine, journey_id,
                                       JourneyUpdate.model_validate({"steps": without_hello}))
    assert [step["id"] for step in updated.steps] == ["pause", "bye"]
    assert updated.version == 2


def test_paused_edit_that_breaks_validation_is_refused_with_the_issues(engine: Engine) -> None:
    journey_id = create(engine)
    lifecycle.change_status(engine, journey_id, "active")
    lifecycle.change_status(engine, journey_id, "paused")
    broken = [{**STEPS[0], "next": "nowhere"}, *STEPS[1:]]
    with pytest.raises(Conflict) as refused:
        lifecycle.update_journey(engine, journey_id, JourneyUpdate.model_validate({"steps": broken}))
    assert refused.value.code == "validation_failed"
    assert {issue["code"] for issue in refused.value.details["issues"]} == {
        "unknown_target",
        "unreachable_step",
    }
    assert lifecycle.get_journey(engine, journey_id).version == 1


def test_moving_steps_is_layout_not_a_new_version_even_while_active(engine: Engine) -> None:
    journey_id = create(engine)
    lifecycle.change_status(engine, journey_id, "active")
    moved = [{**STEPS[0], "position": {"x": 300, "y": 120}}, *STEPS[1:]]
    updated = lifecycle.update_journey(engine, journey_id, JourneyUpdate.model_validate({"steps": moved}))
    assert updated.version == 1
    assert updated.steps[0]["position"] == {"x": 300.0, "y": 120.0}
    assert lifecycle.list_versions(engine, journey_id)[0]["steps"][0]["position"] == {"x": 300.0, "y": 120.0}


def test_resending_the_same_structure_is_not_a_change(engine: Engine) -> None:
    journey_id = create(engine)
    lifecycle.change_status(engine, journey_id, "active")
    same = lifecycle.update_journey(
        engine, journey_id,
        JourneyUpdate.model_validate({"steps": STEPS, "maxDuration": 30, "name": "Renamed"}),
    )
    assert (same.version, same.name) == (1, "Renamed")


def test_versions_keep_every_definition_newest_first(engine: Engine) -> None:
    journey_id = create(engine)
    lifecycle.change_status(engine, journey_id, "active")
    lifecycle.change_status(engine, journey_id, "paused")  # a draft's edits update its one version in place
    lifecycle.update_journey(engine, journey_id, JourneyUpdate(max_duration=10))
    lifecycle.update_journey(engine, journey_id,
                             JourneyUpdate.model_validate({"entryCondition": {"event": "login"}}))
    versions = lifecycle.list_versions(engine, journey_id)
    assert [v["version"] for v in versions] == [3, 2, 1]
    assert [v["maxDuration"] for v in versions] == [10, 10, 30]
    assert versions[0]["entryConditions"]["eventType"] == "login"
    assert versions[2]["entryConditions"]["eventType"] == "signup"


def test_delete_removes_everything_the_journey_owns(engine: Engine) -> None:
    journey_id, other_id = create(engine), create(engine, name="Other")
    for owner in (journey_id, other_id):
        lifecycle.change_status(engine, owner, "active")
        add_enrollment(engine, owner, "pause")
        with engine.session() as s:
            s.add(
                EnrollmentHistory(
                    enrollment_id=f"enr_{owner}_pause_active",
                    journey_id=owner,
                    customer_id="c1",
                    step_id="pause",
                    type="wait",
                    version=1,
                    at=engine.now(),
                    outcome="waiting",
                )
            )
            s.add(StepCounter(journey_id=owner, step_id="pause", current=1, passed=1))
            s.add(EdgeCounter(journey_id=owner, source="__entry__", target="hello", count=1))
            s.add(JourneyCounter(journey_id=owner, name="entered", value=1))
    lifecycle.change_status(engine, journey_id, "archived")
    lifecycle.delete_journey(engine, journey_id)
    with pytest.raises(NotFound):
        lifecycle.get_journey(engine, journey_id)
    with engine.session() as s:
        for model in (
            JourneyVersion,
            Enrollment,
            EnrollmentHistory,
            StepCounter,
            EdgeCounter,
            JourneyCounter,
        ):
            owners = s.execute(select(model.journey_id, func.count()).group_by(model.journey_id)).all()
            assert owners == [(other_id, 1)], model.__name__


def test_delete_takes_the_journeys_deliveries_responses_and_their_counts(engine: Engine) -> None:
    seed_channel(engine, "ch_app", "in_app", {})
    seed_offer(engine, "off_tea", creatives={"in_app": {"subject": "Tea?", "body": "Ten off"}})
    make_customers(engine, "ann")
    segments.create_segment(engine, SegmentIn(id="all", name="All", rule="true"))
    send = [{"id": "greet", "type": "send", "config": {"channelId": "ch_app", "offerId": "off_tea"}}]
    journey_id = make_journey(engine, send, entryConditions={"segmentId": "all"})
    other_id = make_journey(engine, send, name="Other")
    enroll(engine, journey_id, "ann")
    enroll(engine, other_id, "ann")
    runner.run_due(engine)
    dispatcher.dispatch_due(engine)
    for message in deliveries.inbox(engine, "ann")["data"]:
        responses.mark_read(engine, "ann", message["id"])
    lifecycle.change_status(engine, journey_id, "archived")
    lifecycle.delete_journey(engine, journey_id)
    holders = [table for table in SQLModel.metadata.sorted_tables if "journey_id" in table.c]
    with engine.session() as s:
        left = {table.name for table in holders if s.execute(
            select(table.c.journey_id).where(table.c.journey_id == journey_id).limit(1)).first()}
        attempted = set(s.execute(select(DeliveryAttempt.delivery_id)).scalars())
    assert left == set()
    [kept] = deliveries.list_deliveries(engine)["data"]
    assert (kept["journeyId"], attempted) == (other_id, {kept["id"]})
    assert deliveries.status_counts(engine)["sent"] == 1
    # What reached the customer's inbox was delivered: it stays theirs.
    assert len(deliveries.inbox(engine, "ann")["data"]) == 2


def test_every_table_keyed_by_journey_is_owned_by_it() -> None:
    keyed = {table.name for table in SQLModel.metadata.sorted_tables if "journey_id" in table.c}
    assert keyed == {model.__table__.name for model in lifecycle.OWNED_ROWS}  # type: ignore[attr-defined]


def test_reading_and_validating_a_journey_take_no_write_slot(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    if engine.db.lane is None:
        pytest.skip("only SQLite has a writer lane (PostgreSQL readers and writers never block each other)")
    journey_id = create(engine)
    lane, writers = engine.db.lane, []
    enter = lane.enter
    monkeypatch.setattr(lane, "enter", lambda: (writers.append("writer"), enter()))
    lifecycle.get_journey(engine, journey_id)
    lifecycle.list_versions(engine, journey_id)
    lifecycle.export_journey(engine, journey_id)
    lifecycle.validate_journey(engine, journey_id)
    lifecycle.validate_document(engine, {"name": "Unsaved", "steps": STEPS})
    lifecycle.list_journeys(engine)
    assert writers == []


def test_validate_document_turns_shape_errors_into_issues(engine: Engine) -> None:
    document = {
        "name": "Draft",
        "steps": [
            {"id": "w", "type": "wait", "config": {"duration": 1, "unit": "weeks"}},
            {"id": "bad id!", "type": "exit"},
            {"id": "z", "type": "teleport"},
        ],
    }
    result = lifecycle.validate_document(engine, document)
    assert not result.valid
    assert [(i.code, i.step_id) for i in result.issues] == [
        ("invalid_shape", "w"),
        ("invalid_shape", "bad id!"),
        ("invalid_shape", "z"),
    ]
    assert result.issues[0].message.startswith("steps.0.config.unit:")


def test_validate_document_checks_references_against_the_database(engine: Engine) -> None:
    with engine.session() as s:
        moment = engine.now()
        s.add(Segment(id="seg_new", name="New", created_at=moment, updated_at=moment))
        s.add(Channel(id="ch_app", name="App", type="in_app", created_at=moment, updated_at=moment))
    steps = [{"id": "m", "type": "send", "config": {"channelId": "ch_app", "offerId": "off_x"}}]
    document = {"entryConditions": {"segmentId": "seg_new"}, "steps": steps}
    result = lifecycle.validate_document(engine, document)
    assert [(i.code, i.step_id) for i in result.issues] == [("unknown_reference", "m")]
    assert catalog(engine).channel_types == {"ch_app": "in_app"}


def test_validate_document_never_raises_on_garbage(engine: Engine) -> None:
    for garbage in ({"steps": "many"}, {"maxDuration": "long"}, {"steps": [None, 3]}, {}):
        result = lifecycle.validate_document(engine, garbage)  # type: ignore[arg-type]
        assert result.valid is False


def test_duplicate_is_a_draft_copy_with_a_new_id(engine: Engine) -> None:
    journey_id = create(engine, name="x" * 255)
    lifecycle.change_status(engine, journey_id, "active")
    copy = lifecycle.duplicate_journey(engine, journey_id)
    assert copy.id != journey_id
    assert (copy.status, copy.version) == ("draft", 1)
    assert copy.name == "x" * 248 + " (copy)"
    assert copy.steps == lifecycle.get_journey(engine, journey_id).steps
