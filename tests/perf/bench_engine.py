"""Engine benchmark (a script, not a test): `python tests/perf/bench_engine.py [--quick] [--json]`.

Measures, on SQLite files in a temporary directory, each scenario in a fresh interpreter (`isolated`):
- transitions_per_s: step executions per second advancing N enrollments (100,000; 20,000 with --quick) through
  a 5-step instantaneous journey (branch on the customer, split, branch, split, exit) with the real runner.
- ceiling_ratio: our rate divided by the machine's ceiling for the same row work: one raw sqlite3
  `UPDATE ... executemany` of the same N rows (5 transitions each) in one transaction.
- naive_ratio: our rate divided by the naive alternative run side by side: one APScheduler job per enrollment
  with its SQLAlchemy job store, each job loading the enrollment through the ORM, running the same 5 steps and
  committing (fewer enrollments, rate compared per transition).
- lag_p50_s / lag_p99_s: wake-up lag for 10,000 enrollments whose waits end in the same second, with the real
  scheduler (engine.runtime.scheduler) on the system clock: commit time of the batch that moved each one
  minus its due time.
- rss_mb_1m: peak resident memory of a process holding 1,000,000 waiting enrollments while the runner,
  sweep and next-due queries run over them.
- decisions_per_s: next-best-offer decisions per second for one customer over 100 offers (the flow and offers
  of tests/perf/bench_decisioning.py: CEL eligibility, propensities, rules, contact policy), warm, in one
  session as the decide step runs them.
- seed_journey_per_s: enrollments per second through the seed's journey (decide over those 100 offers →
  send in_app → wait a day) with the real runner: one outbox row written per enrollment.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

if TYPE_CHECKING:
    from engine.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

STEPS: list[dict[str, Any]] = [
    {
        "id": "s1",
        "type": "branch",
        "config": {
            "conditions": [{"label": "gold", "expression": "customer.tier == 'gold'", "targetStepId": "s2"}],
            "defaultStepId": "s2",
        },
    },
    {
        "id": "s2",
        "type": "split",
        "config": {
            "paths": [
                {"label": "A", "percent": 50, "targetStepId": "s3"},
                {"label": "B", "percent": 50, "targetStepId": "s3"},
            ]
        },
    },
    {
        "id": "s3",
        "type": "branch",
        "config": {
            "conditions": [{"label": "v1", "expression": "journey.version >= 1", "targetStepId": "s4"}],
            "defaultStepId": "s4",
        },
    },
    {
        "id": "s4",
        "type": "split",
        "config": {"paths": [{"label": "all", "percent": 100, "targetStepId": "s5"}]},
    },
    {"id": "s5", "type": "exit", "config": {"reason": "done"}},
]
TRANSITIONS_PER_ENROLLMENT = len(STEPS)


def _init(db_path: Path, batch_size: int = 1000, virtual: bool = True) -> Engine:
    from engine import startup
    from engine.clock import VirtualClock
    from engine.settings import Settings

    settings = Settings(
        database_url=f"sqlite:///{db_path}", demo=False, scheduler=False, batch_size=batch_size
    )
    return startup.start(settings, VirtualClock() if virtual else None)


def _seed(engine: Engine, count: int, steps: list[dict[str, Any]], enroll: bool = True) -> str:
    """Customers in one bulk insert, an active journey, and `count` enrollments via the real entry path."""
    from engine.journeys import lifecycle
    from engine.runtime import entry
    from models.audience import Customer
    from models.journey import Journey, JourneyCreate

    moment = engine.now()
    with engine.session() as s:
        if count:
            s.execute(
                Customer.__table__.insert(),
                [  # type: ignore[attr-defined]
                    {
                        "id": f"c{i}",
                        "attributes": {"tier": "gold" if i % 3 == 0 else "silver"},
                        "flags": {},
                        "created_at": moment,
                        "updated_at": moment,
                    }
                    for i in range(count)
                ],
            )
    journey_id = lifecycle.create_journey(
        engine, JourneyCreate.model_validate({"name": "bench", "steps": steps})).id
    lifecycle.change_status(engine, journey_id, "active")
    if enroll:
        with engine.session() as s:
            row = s.get(Journey, journey_id)
            for start in range(0, count, 5000):
                entry.enter(s, row, [f"c{i}" for i in range(start, min(start + 5000, count))], moment)
    return journey_id


def bench_transitions(workdir: Path, count: int) -> tuple[float, float]:
    """(transitions per wall-clock second, per CPU second of this process) with the default batch size."""
    from engine.runtime import runner
    from engine.settings import Settings

    engine = _init(workdir / "transitions.db", Settings().batch_size)
    _seed(engine, count, STEPS)
    started, cpu = time.perf_counter(), time.process_time()
    handled = runner.run_due(engine)
    elapsed, cpu_used = time.perf_counter() - started, time.process_time() - cpu
    assert handled == count, handled
    transitions = count * TRANSITIONS_PER_ENROLLMENT
    return transitions / elapsed, transitions / cpu_used


def bench_ceiling(workdir: Path, count: int) -> float:
    """Raw sqlite3: one executemany UPDATE of `count` enrollment rows in one transaction."""

    path = workdir / "ceiling.db"
    engine = _init(path)
    _seed(engine, count, STEPS)
    engine.close()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    ids = [row[0] for row in connection.execute("SELECT id FROM enrollment")]
    rows = [
        ("s5", "exited", '{"results": {}}', TRANSITIONS_PER_ENROLLMENT, "done", enrollment_id)
        for enrollment_id in ids
    ]
    started = time.perf_counter()
    with connection:
        connection.executemany(
            "UPDATE enrollment SET step_id = ?, status = ?, context = ?, visits = ?, exit_reason = ?, "
            "next_run_at = NULL WHERE id = ?",
            rows,
        )
    elapsed = time.perf_counter() - started
    connection.close()
    return count * TRANSITIONS_PER_ENROLLMENT / elapsed


def bench_naive(workdir: Path, count: int) -> float:
    """One APScheduler job per enrollment in a SQLAlchemy job store; each moves one enrollment via the ORM."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    class OnEngine(ThreadPoolExecutor):
        """Runs each job on this process's engine: the job store pickles a job's arguments, and an engine
        (its connection pool, its locks) does not pickle, so jobs are stored with a stand-in for it."""

        def submit_job(self, job: Any, run_times: Any) -> None:
            _, *rest = job.args
            job.args = (engine, *rest)
            super().submit_job(job, run_times)

    engine = _init(workdir / "naive.db")
    _seed(engine, count, STEPS)
    jobs_url = f"sqlite:///{workdir / 'naive_jobs.db'}"
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=jobs_url)},
        executors={"default": OnEngine(max_workers=4)},
    )
    from models.enrollment import Enrollment

    with engine.session() as s:
        ids = list(s.execute(select(Enrollment.id)).scalars())
    scheduler.start(paused=True)
    for enrollment_id in ids:  # None: the engine's stand-in, which OnEngine replaces
        scheduler.add_job(naive_job, "date", args=[None, enrollment_id], id=enrollment_id,
                          misfire_grace_time=None)
    started = time.perf_counter()
    scheduler.resume()
    while True:
        with engine.session() as s:
            left = s.execute(select(Enrollment.id).where(Enrollment.status == "active").limit(1)).first()
        if left is None:
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    scheduler.shutdown(wait=False)
    return count * TRANSITIONS_PER_ENROLLMENT / elapsed


def naive_job(engine: Engine, enrollment_id: str) -> None:
    """The naive worker: ORM load, the same executors, ORM writes, one commit per enrollment."""
    from engine.audience import customers
    from engine.journeys.plan import plan_of
    from engine.journeys.steps import KINDS
    from engine.journeys.steps.base import Run
    from models.enrollment import Enrollment, EnrollmentHistory
    from models.journey import Journey

    with engine.unit_of_work() as uow:
        s = uow.session
        row = s.get(Enrollment, enrollment_id)
        journey = s.get(Journey, row.journey_id)
        plan = plan_of(journey)
        moment = engine.now()
        context = dict(row.context or {})
        run = Run(
            uow=uow,
            now=moment,
            enrollment_id=row.id,
            customer_id=row.customer_id,
            journey={"id": journey.id, "name": journey.name, "version": journey.version},
            context=context,
            load_customer=lambda cid: customers.customer_view(s, cid),
        )
        step_id = row.step_id
        while step_id:
            step = plan.steps[step_id]
            result = KINDS[step.type].execute(step, run)
            s.add(
                EnrollmentHistory(
                    enrollment_id=row.id,
                    journey_id=row.journey_id,
                    customer_id=row.customer_id,
                    step_id=step.id,
                    type=step.type,
                    version=plan.version,
                    at=moment,
                    outcome=result.outcome,
                    next_step_id=result.next_step,
                    detail=result.detail.to_json(),
                )
            )
            row.visits += 1
            if result.exit_reason:
                row.status, row.exit_reason = "exited", result.exit_reason
                break
            step_id = result.next_step
        row.step_id, row.context, row.next_run_at, row.updated_at = step.id, context, None, moment


def bench_lag(workdir: Path, count: int) -> tuple[float, float]:
    """`count` enrollments whose waits all end at the same second, moved by the real scheduler."""
    from engine.runtime import runner
    from engine.runtime.scheduler import Scheduler
    from models.enrollment import Enrollment

    engine = _init(workdir / "lag.db", virtual=False)
    journey_id = _seed(
        engine, count,
        [
            {"id": "w", "type": "wait", "config": {"duration": 1, "unit": "minutes"}, "next": "x"},
            {"id": "x", "type": "exit", "config": {"reason": "done"}},
        ],
    )
    runner.run_due(engine)  # everyone now waits at `w`
    due = engine.now() + timedelta(seconds=3)
    E = Enrollment.__table__  # type: ignore[attr-defined]
    with engine.session() as s:
        s.execute(E.update().where(E.c.journey_id == journey_id).values(next_run_at=due))
    commits: list[tuple[float, int]] = []
    publish = engine.live.publish

    def record(delta: dict[str, Any]) -> None:
        if delta.get("kind") == "batch" and delta.get("transitions"):
            commits.append((time.time(), delta["transitions"]))
        publish(delta)

    engine.live.publish = record  # type: ignore[method-assign]
    due_epoch = time.time() + (due - engine.now()).total_seconds()
    scheduler = Scheduler(engine)
    scheduler.start()
    try:
        deadline = time.time() + 60
        while sum(n for _, n in commits) < count and time.time() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.stop()
        engine.live.publish = publish  # type: ignore[method-assign]
    lags = sorted(lag for at, n in commits for lag in [max(at - due_epoch, 0.0)] * n)
    assert len(lags) >= count, len(lags)
    return statistics.median(lags), lags[int(len(lags) * 0.99) - 1]


def peak_rss_holding(workdir: Path, count: int) -> float:
    """Peak RSS in MB of this process (run isolated) holding `count` waiting enrollments while the engine's
    queries run over them."""
    import resource

    hold_waiting(workdir, count)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def isolated(scenario: str, workdir: Path, size: float) -> Any:
    """What `scenario(workdir, size)` returns, run in a fresh interpreter: what an earlier scenario left in
    a process (its heap, caches, a scheduler's threads) measurably slows a later one, and an engine worker
    runs nothing else."""
    script = (f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); from pathlib import Path; "
              f"import tests.perf.bench_engine as bench; "
              f"print(json.dumps(bench.{scenario}(Path({str(workdir)!r}), {size!r})))")
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                            cwd=ROOT)
    return json.loads(output.stdout.strip().splitlines()[-1])


def hold_waiting(workdir: Path, count: int) -> None:
    """Insert `count` waiting enrollments (raw, in chunks) and run the engine's periodic work over them."""
    from engine.runtime import runner
    from models.enrollment import Enrollment

    engine = _init(workdir / "rss.db")
    journey_id = _seed(
        engine, 0, [{"id": "w", "type": "wait", "config": {"duration": 30, "unit": "days"}}], enroll=False
    )
    moment = engine.now()
    until = moment + timedelta(days=30)
    E = Enrollment.__table__  # type: ignore[attr-defined]
    path = engine.db.url.removeprefix("sqlite:///")
    connection = sqlite3.connect(path)
    context = json.dumps({"results": {}, "wait": {"stepId": "w"}})
    chunk = 50_000
    for start in range(0, count, chunk):
        with connection:
            connection.executemany(
                "INSERT INTO enrollment (id, journey_id, version, customer_id, step_id, status, next_run_at, "
                "context, visits, entered_at, updated_at) VALUES (?, ?, 1, ?, 'w', 'active', ?, ?, 1, ?, ?)",
                [
                    (f"enr_{i}", journey_id, f"c{i}", str(until), context, str(moment), str(moment))
                    for i in range(start, min(start + chunk, count))
                ],
            )
    connection.close()
    for _ in range(3):
        runner.run_due(engine)
        runner.sweep(engine)
        runner.next_due_at(engine)
    with engine.session() as s:
        assert s.execute(select(E.c.id).limit(1)).first() is not None


SEED_JOURNEY: list[dict[str, Any]] = [
    {"id": "decide", "type": "decide", "config": {"decisionFlowId": "flow", "storeResultAs": "best"},
     "next": "send"},
    {"id": "send", "type": "send", "config": {"channelId": "inbox", "offerFrom": "best"}, "next": "wait"},
    {"id": "wait", "type": "wait", "config": {"duration": 1, "unit": "days"}},
]


def bench_decisions(workdir: Path, seconds: float) -> float:
    """Decisions per second for one customer over 100 offers, warm, in one session."""
    from engine.audience import customers
    from engine.decisioning import decisions
    from tests.perf import bench_decisioning

    engine = _init(workdir / "decisions.db")
    bench_decisioning.seed(engine, 100)
    with engine.unit_of_work() as uow:
        view = customers.customer_view(uow.session, "c1")
        assert view is not None
        moment = engine.now()
        # As in a runner batch: the unit of work names its customers, so their deliveries are read once.
        uow.loaded.policy_customers = frozenset({"c1"})
        return bench_decisioning.rate(lambda: decisions.decide(uow, view, "flow", None, moment), seconds)


def bench_seed_journey(workdir: Path, count: int) -> float:
    """Enrollments per second through decide (100 offers) → send in_app → wait, with the real runner."""
    from engine.delivery import channels_admin
    from engine.runtime import runner
    from engine.settings import Settings
    from models.audience import Customer
    from models.channels import ChannelCreate, Delivery
    from tests.perf import bench_decisioning

    engine = _init(workdir / "seed_journey.db", Settings().batch_size)
    bench_decisioning.seed(engine, 100)
    channels_admin.create_channel(engine, ChannelCreate(id="inbox", name="Inbox", type="in_app"))
    moment = engine.now()
    with engine.session() as s:
        s.execute(Customer.__table__.insert(), [  # type: ignore[attr-defined]
            {"id": f"c{i}", "attributes": {"age": 18 + i % 60, "country": ("DE", "FR", "US")[i % 3],
                                           "visits": i % 30, "tier": ("gold", "silver", "bronze")[i % 3],
                                           "spend": float(i % 900), "name": f"Customer {i}"},
             "flags": {}, "created_at": moment, "updated_at": moment}
            for i in range(2, count + 2)
        ])
    journey_id = _enroll(engine, count, SEED_JOURNEY, [f"c{i}" for i in range(2, count + 2)])
    started = time.perf_counter()
    handled = runner.run_due(engine)
    elapsed = time.perf_counter() - started
    assert handled == count, handled
    with engine.session() as s:
        written = s.execute(select(Delivery.id).where(Delivery.journey_id == journey_id)).all()
    assert len(written) == count, len(written)
    return count / elapsed


def _enroll(engine: Engine, count: int, steps: list[dict[str, Any]], customer_ids: list[str]) -> str:
    """An active journey of `steps` with the given customers enrolled through the real entry path."""
    from engine.journeys import lifecycle
    from engine.runtime import entry
    from models.journey import Journey, JourneyCreate

    journey_id = lifecycle.create_journey(
        engine, JourneyCreate.model_validate({"name": "seed", "steps": steps})).id
    lifecycle.change_status(engine, journey_id, "active")
    with engine.session() as s:
        row = s.get(Journey, journey_id)
        for start in range(0, count, 5000):
            entry.enter(s, row, customer_ids[start:start + 5000], engine.now())
    return journey_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs, under a minute")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    os.environ.setdefault("JOURNEYS_SCHEDULER", "0")
    sizes = (
        {"transitions": 20_000, "naive": 1_000, "lag": 10_000, "rss": 1_000_000, "seed": 2_000,
         "decide_s": 2.0}
        if args.quick
        else {"transitions": 100_000, "naive": 5_000, "lag": 10_000, "rss": 1_000_000, "seed": 10_000,
              "decide_s": 5.0}
    )
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        ours, ours_cpu = isolated("bench_transitions", workdir, sizes["transitions"])
        ceiling = isolated("bench_ceiling", workdir, sizes["transitions"])
        naive = isolated("bench_naive", workdir, sizes["naive"])
        lag_p50, lag_p99 = isolated("bench_lag", workdir, sizes["lag"])
        rss = isolated("peak_rss_holding", workdir, sizes["rss"])
        decisions = isolated("bench_decisions", workdir, sizes["decide_s"])
        seed_journey = isolated("bench_seed_journey", workdir, sizes["seed"])
    figures = {
        "transitions_per_s": round(ours),
        "ceiling_ratio": round(ours / ceiling, 3),
        "naive_ratio": round(ours / naive, 1),
        "lag_p50_s": round(lag_p50, 3),
        "lag_p99_s": round(lag_p99, 3),
        "rss_mb_1m": round(rss, 1),
        "decisions_per_s": round(decisions),
        "seed_journey_per_s": round(seed_journey),
        "load_average": round(os.getloadavg()[0], 2),
    }
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"transitions/s {figures['transitions_per_s']} ({sizes['transitions']} enrollments x 5 steps; "
              f"{round(ours_cpu)} per CPU second, {os.getloadavg()[0]:.1f} load average)")
        print(f"ceiling (raw executemany UPDATE) {round(ceiling)} /s, ratio {figures['ceiling_ratio']}")
        print(f"naive (APScheduler job per enrollment) {round(naive)} /s, ours is {figures['naive_ratio']}x")
        print(
            f"wake-up lag for {sizes['lag']} due together: "
            f"p50 {figures['lag_p50_s']} s, p99 {figures['lag_p99_s']} s"
        )
        print(f"peak RSS with {sizes['rss']} waiting enrollments: {figures['rss_mb_1m']} MB")
        print(f"decisions/s (one customer, 100 offers, warm): {figures['decisions_per_s']}")
        print(f"seed journey (decide 100 offers -> send in_app -> wait), {sizes['seed']} enrollments: "
              f"{figures['seed_journey_per_s']} /s")


if __name__ == "__main__":
    main()
