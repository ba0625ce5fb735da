"""The enrollment store: what a batch writes back and the history it inserts read back through the ORM as
written, datetimes and JSON included (the statements go through the driver)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from engine.audience import customers
from engine.engine import Engine
from engine.journeys.steps.base import Failed, StepResult
from engine.runtime import enrollment_store
from engine.runtime.enrollment_store import State, history_row, insert_history, write_back
from models.audience import CustomerIn
from models.enrollment import Enrollment, EnrollmentHistory
from tests.engine.test_runtime import enroll, exit_step, make_journey, wait

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
