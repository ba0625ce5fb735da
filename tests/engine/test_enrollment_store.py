"""The enrollment store: what a batch writes back and the history it inserts read back through the ORM as
written, datetimes and JSON included (the statements go through the driver); a claim takes only what is due
and free; a lease renewal, a wait's resume and an exit touch only the rows they are meant for."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timedelta

from sqlalchemy import select, update

from engine.audience import customers
from engine.engine import Engine
from engine.journeys import lifecycle
from engine.journeys.steps.base import Failed, StepResult
from engine.runtime import enrollment_store
from engine.runtime.enrollment_store import READ, State, history_row, insert_history, write_back
from models.audience import CustomerIn
from models.enrollment import Enrollment, EnrollmentHistory
from tests.engine.test_runtime import enroll, exit_step, make_customers, make_journey, wait

WORKER = "test-worker"


def _leased(engine: Engine, owner: str) -> State:
    customers.create_customer(engine, CustomerIn(id="c1"))
    journey_id = make_journey(engine, [wait("w", 1, "days", "x"), exit_step("x")])
    [enrollment_id] = enroll(engine, journey_id, "c1")
    with engine.session() as s:
        s.execute(update(Enrollment).where(Enrollment.id == enrollment_id).values(lease_owner=owner))
        row = s.execute(select(*enrollment_store.read_columns()).where(Enrollment.id == enrollment_id)).one()
        return enrollment_store.state_of(row)


def test_a_written_back_state_reads_back_as_written_and_its_lease_is_released(engine: Engine) -> None:
    state = _leased(engine, WORKER)
    state.step_id, state.status, state.visits, state.version = "x", "waiting", 3, 2
    state.context = {"results": {"best": [{"offerId": "o1", "score": 0.5}]}, "n": 10**20}
    state.next_run_at, state.wait_event = datetime(2027, 1, 2, 3, 4, 5, 678000), "pong"
    moment = datetime(2027, 1, 1, 12, 0, 0, 1000)
    with engine.session() as s:
        assert write_back(engine, s, [state], moment, WORKER) == 1
    with engine.reader() as s:
        row = s.get_one(Enrollment, state.id)
        assert (row.step_id, row.status, row.visits, row.version) == ("x", "waiting", 3, 2)
        assert row.context == state.context
        assert (row.next_run_at, row.wait_event, row.updated_at) == (state.next_run_at, "pong", moment)
        assert (row.ended_at, row.exit_reason, row.error) == (None, None, None)
        assert (row.lease_owner, row.lease_until) == (None, None)


def test_a_state_whose_lease_another_worker_holds_is_not_written(engine: Engine) -> None:
    state = _leased(engine, "another-worker")
    state.status = "completed"
    with engine.session() as s:
        assert write_back(engine, s, [state], engine.now(), WORKER) == 0
    with engine.reader() as s:
        assert s.get_one(Enrollment, state.id).status == "active"


def test_history_rows_read_back_as_written(engine: Engine) -> None:
    state = State("enr_1", "jrn_1", "c1", "w", {}, 1, 4)
    at = datetime(2027, 1, 1, 8, 30, 0, 250000)
    result = StepResult("failed" * 20, None, Failed("boom"))
    with engine.session() as s:
        insert_history(engine, s, [history_row(state, "w", "wait", result, at)])
    with engine.reader() as s:
        row = s.execute(select(EnrollmentHistory)).scalar_one()
        assert (row.enrollment_id, row.journey_id, row.customer_id, row.step_id, row.type, row.version) == (
            "enr_1", "jrn_1", "c1", "w", "wait", 4)
        assert (row.at, row.outcome, row.next_step_id, row.detail) == (at, ("failed" * 20)[:64], None,
                                                                       {"error": "boom"})


def _set(engine: Engine, enrollment_id: str, **values: object) -> None:
    with engine.session() as s:
        s.execute(update(Enrollment).where(Enrollment.id == enrollment_id).values(**values))


def _enrolled(engine: Engine, *customer_ids: str) -> tuple[str, list[str]]:
    make_customers(engine, *customer_ids)
    journey_id = make_journey(engine, [wait("w", 1, "days", "x"), exit_step("x")])
    return journey_id, enroll(engine, journey_id, *customer_ids)


def test_a_claim_leases_the_earliest_due_free_enrollments_of_active_journeys_up_to_its_limit(
        engine: Engine) -> None:
    _, (first, second, leased, later) = _enrolled(engine, "c1", "c2", "c3", "c4")
    now = engine.now()
    _set(engine, first, next_run_at=now - timedelta(minutes=2))
    _set(engine, second, next_run_at=now - timedelta(minutes=1))
    _set(engine, leased, lease_owner="another-worker", lease_until=now + timedelta(minutes=1))
    _set(engine, later, next_run_at=now + timedelta(minutes=1))
    paused_id, [paused] = _enrolled(engine, "c5")
    lifecycle.change_status(engine, paused_id, "paused")
    until = now + timedelta(minutes=5)
    with engine.session() as s:
        assert enrollment_store.claim(engine, s, 1, now, WORKER, until) == [first]
        assert enrollment_store.claim(engine, s, 10, now, WORKER, until) == [second]
    with engine.reader() as s:
        row = s.get_one(Enrollment, first)
        assert (row.lease_owner, row.lease_until) == (WORKER, until)
        assert s.get_one(Enrollment, paused).lease_owner is None


def test_a_renewal_extends_and_returns_only_the_workers_active_leases_in_the_given_journeys(
        engine: Engine) -> None:
    journey_id, (mine, exited, theirs) = _enrolled(engine, "c1", "c2", "c3")
    _, [elsewhere] = _enrolled(engine, "c4")
    for enrollment_id in (mine, exited, elsewhere):
        _set(engine, enrollment_id, lease_owner=WORKER)
    _set(engine, exited, status="exited")
    _set(engine, theirs, lease_owner="another-worker")
    until = engine.now() + timedelta(minutes=1)
    ids = [mine, exited, theirs, elsewhere]
    with engine.session() as s:
        rows = enrollment_store.renew_leases(s, ids, WORKER, [journey_id], until)
        assert [enrollment_store.state_of(row).id for row in rows] == [mine]
        enrollment_store.release_leases(s, ids, WORKER, keep=[journey_id])
    with engine.reader() as s:
        assert s.get_one(Enrollment, mine).lease_until == until
        assert s.get_one(Enrollment, elsewhere).lease_owner is None
        assert s.get_one(Enrollment, theirs).lease_owner == "another-worker"


def test_a_resume_leaves_an_enrollment_no_longer_waiting_for_that_event_alone(engine: Engine) -> None:
    _, (waiting, moved) = _enrolled(engine, "c1", "c2")
    later = engine.now() + timedelta(days=1)
    _set(engine, waiting, wait_event="ping", next_run_at=later)
    _set(engine, moved, wait_event="pong", next_run_at=later)
    now = engine.now()
    with engine.session() as s:
        rows = enrollment_store.waiting_for(s, {"c1", "c2"}, {"ping"})
        assert [row.id for row in rows] == [waiting]
        enrollment_store.resume_waits(s, [(waiting, "ping", {"resumed": True}, now),
                                          (moved, "ping", {"resumed": True}, now)])
    with engine.reader() as s:
        row = s.get_one(Enrollment, waiting)
        assert (row.wait_event, row.next_run_at, row.context) == (None, now, {"resumed": True})
        row = s.get_one(Enrollment, moved)
        assert (row.wait_event, row.next_run_at, row.context) == ("pong", later, {"results": {}})


def test_an_exit_ends_only_the_active_enrollments_asked_for_with_a_lifecycle_history_row_each(
        engine: Engine) -> None:
    journey_id, (first, second, done) = _enrolled(engine, "c1", "c2", "c3")
    _set(engine, done, status="completed")
    moment = engine.now()
    with engine.session() as s:
        per_step = enrollment_store.exit_active(s, journey_id, "manual", moment, ids=[first, done])
        assert [tuple(row) for row in per_step] == [("w", 1)]
        assert enrollment_store.exit_active(s, journey_id, "manual", moment, ids=[done]) == []
    with engine.reader() as s:
        assert [s.get_one(Enrollment, i).status for i in (first, second, done)] == ["exited", "active",
                                                                                     "completed"]
        [history] = s.execute(select(EnrollmentHistory)).scalars()
        assert (history.enrollment_id, history.type, history.outcome, history.detail) == (
            first, enrollment_store.LIFECYCLE, "exited", {"reason": "manual"})


def test_what_a_batch_reads_is_state_s_leading_fields_in_order() -> None:
    # state_of builds a State from a read row by position.
    assert tuple(field.name for field in fields(State))[:len(READ)] == READ
