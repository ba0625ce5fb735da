"""Two runner processes claiming from one PostgreSQL database at once never move an enrollment twice."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.engine import Engine
from engine.runtime import entry
from models.channels import Delivery
from models.enrollment import Enrollment, EnrollmentHistory, StepCounter
from tests.conftest import POSTGRES_URL
from tests.delivery_kit import seed_channel, seed_offer
from tests.engine.test_runtime import exit_step, make_journey

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL.startswith("postgresql"),
    reason="needs JOURNEYS_TEST_DATABASE_URL on PostgreSQL: SQLite has one writer, so runners cannot race",
)
ROOT = Path(__file__).resolve().parents[2]
WORKER = """
import sys, time
sys.path.insert(0, {root!r})
from engine import startup
from engine.runtime import runner
from engine.settings import Settings
engine = startup.start(Settings(database_url={url!r}, demo=False, scheduler=False, batch_size=20))
while time.time() < {start}:
    time.sleep(0.005)
print(runner.run_due(engine))
"""
CUSTOMERS = 300


def test_two_runner_processes_move_each_enrollment_once(engine: Engine) -> None:
    seed_channel(engine, "ch_app", "in_app", {})
    seed_offer(engine, "off_tea")
    with engine.session() as s:
        s.connection().exec_driver_sql(
            "INSERT INTO customer (id, attributes, flags, created_at, updated_at) "
            f"SELECT 'c' || n, '{{}}', '{{}}', now(), now() FROM generate_series(1, {CUSTOMERS}) AS n")
    journey_id = make_journey(engine, [
        {"id": "mark", "type": "update", "next": "hello",
         "config": {"operations": [{"op": "increment", "attribute": "visits"}]}},
        {"id": "hello", "type": "send", "next": "bye",
         "config": {"channelId": "ch_app", "offerId": "off_tea"}},
        exit_step("bye"),
    ])
    enrolled = entry.enroll(engine, journey_id, [f"c{n}" for n in range(1, CUSTOMERS + 1)])
    assert enrolled["enrolled"] == CUSTOMERS
    start = time.time() + 2.0
    workers = [subprocess.Popen([sys.executable, "-c", WORKER.format(root=str(ROOT), url=POSTGRES_URL,
                                                                     start=start)],
                                stdout=subprocess.PIPE, text=True) for _ in range(2)]
    handled = [int(worker.communicate(timeout=120)[0].strip().splitlines()[-1]) for worker in workers]
    assert sum(handled) == CUSTOMERS
    print("enrollments moved per runner process:", handled)
    with engine.session() as s:
        executions = Counter(
            s.execute(select(EnrollmentHistory.enrollment_id, EnrollmentHistory.step_id)).all())
        deliveries = Counter(s.execute(select(Delivery.enrollment_id)).scalars())
        statuses = Counter(s.execute(select(Enrollment.status)).scalars())
        visits = s.connection().exec_driver_sql(
            "SELECT count(*) FROM customer WHERE (attributes->>'visits')::int = 1").scalar_one()
        passed = dict(s.execute(select(StepCounter.step_id, func.sum(StepCounter.passed))
                                .group_by(StepCounter.step_id)).all())
    assert set(executions.values()) == {1} and len(executions) == 3 * CUSTOMERS
    assert set(deliveries.values()) == {1} and len(deliveries) == CUSTOMERS
    assert statuses == {"exited": CUSTOMERS}
    assert visits == CUSTOMERS  # each customer's update step ran once
    assert passed == {"mark": CUSTOMERS, "hello": CUSTOMERS, "bye": CUSTOMERS}
