"""Worker scaling benchmark on PostgreSQL (a script, not a test):

    python tests/perf/bench_workers.py [--db URL] [--customers N] [--offers K] [--workers 1,2,4] [--json]

For each worker count it empties the database (every table is dropped and recreated: use a database of your
own; default JOURNEYS_BENCH_DATABASE_URL, else JOURNEYS_TEST_DATABASE_URL), seeds N customers, an in_app
channel, K offers in a decision flow and an active journey

    decide (K offers) → send in_app (outbox row, delivered by the dispatcher) → wait 1 minute
    → branch on the customer → update an attribute → split → exit

then starts that many `python main.py worker` processes, enrolls the N customers (the engine's own entry
path, which NOTIFYs the workers) and times how long the workers take until every enrollment has exited and
every delivery is sent. Waits end as soon as an enrollment parks: this script moves the waiting
enrollments' due time to now (what the clock would do a minute later) and NOTIFYs, so the figure is the
engine's work, not the wait.

Reports `workers_scaling`: enrollments per second through the whole journey with 1, 2 and 4 workers and the
ratios to one worker, with /proc/loadavg before and after each run (the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


from engine import signals, startup  # noqa: E402
from engine.delivery import channels_admin  # noqa: E402
from engine.engine import Engine  # noqa: E402
from engine.journeys import lifecycle  # noqa: E402
from engine.runtime import entry  # noqa: E402
from engine.settings import Settings  # noqa: E402
from models.audience import Customer  # noqa: E402
from models.channels import ChannelCreate, Delivery  # noqa: E402
from models.enrollment import Enrollment, EnrollmentHistory  # noqa: E402
from models.journey import Journey, JourneyCreate  # noqa: E402
from models.workers import EngineWorker  # noqa: E402
from tests.conftest import empty_database  # noqa: E402
from tests.perf import bench_decisioning  # noqa: E402

JOURNEY: list[dict[str, Any]] = [
    {"id": "decide", "type": "decide", "config": {"decisionFlowId": "flow", "storeResultAs": "best"},
     "next": "send"},
    {"id": "send", "type": "send", "next": "wait",
     "config": {"channelId": "ch", "offerFrom": "best",
                "template": {"subject": "For {{ customer.name }}", "body": "{{ offer.name }}"}}},
    {"id": "wait", "type": "wait", "config": {"duration": 1, "unit": "minutes"}, "next": "tier"},
    {"id": "tier", "type": "branch",
     "config": {"conditions": [{"label": "gold", "expression": "customer.tier == 'gold'",
                                "targetStepId": "mark"}], "defaultStepId": "mark"}},
    {"id": "mark", "type": "update", "next": "ab",
     "config": {"operations": [{"op": "increment", "attribute": "visits", "value": 1}]}},
    {"id": "ab", "type": "split",
     "config": {"paths": [{"label": "A", "percent": 50, "targetStepId": "done"},
                          {"label": "B", "percent": 50, "targetStepId": "done"}]}},
    {"id": "done", "type": "exit", "config": {"reason": "finished"}},
]
POLL_SECONDS = 0.1
PATIENCE_SECONDS = 900.0


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages (the machine may be shared with other work)."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def seed(engine: Engine, customers: int, offers: int) -> str:
    """Customers, the in_app channel, offers and their decision flow, and the active journey; its id."""
    channels_admin.create_channel(engine, ChannelCreate(id="ch", name="Inbox", type="in_app"))
    bench_decisioning.seed(engine, offers)
    moment = engine.now()
    with engine.session() as s:
        s.execute(Customer.__table__.insert(), [  # type: ignore[attr-defined]
            {"id": f"c{i}", "attributes": {"age": 18 + i % 60, "country": ("DE", "FR", "US")[i % 3],
                                           "visits": i % 30, "tier": ("gold", "silver", "bronze")[i % 3],
                                           "spend": float(i % 900), "name": f"Customer {i}"},
             "flags": {}, "created_at": moment, "updated_at": moment}
            for i in range(2, customers + 2)
        ])
    journey = lifecycle.create_journey(
        engine, JourneyCreate.model_validate({"name": "workers", "steps": JOURNEY}))
    lifecycle.change_status(engine, journey.id, "active")
    return journey.id


def start_workers(engine: Engine, url: str, count: int, batch_size: int) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "JOURNEYS_BATCH_SIZE": str(batch_size)}
    env.pop("PYTEST_CURRENT_TEST", None)
    logs = Path(tempfile.gettempdir())
    workers = [subprocess.Popen([sys.executable, str(ROOT / "main.py"), "worker", "--db", url], cwd=ROOT,
                                env=env, stdout=(logs / f"bench_worker_{number}.log").open("wb"),
                                stderr=subprocess.STDOUT)
               for number in range(count)]
    _until(lambda: _live_workers(engine) >= count, "the workers' heartbeats")
    return workers


def cpu_seconds(worker: subprocess.Popen[bytes]) -> float:
    """User + system CPU time the process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{worker.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        worker.wait(timeout=60)


def _live_workers(engine: Engine) -> int:
    with engine.db.reader() as s:
        return s.execute(select(func.count()).select_from(EngineWorker).where(
            EngineWorker.role == "worker")).scalar_one()


def _until(check: Any, what: str) -> None:
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(POLL_SECONDS)


def enroll(engine: Engine, journey_id: str, customers: int) -> None:
    with engine.session() as s:
        journey = s.get(Journey, journey_id)
        ids = [f"c{i}" for i in range(2, customers + 2)]
        for start in range(0, customers, 5000):
            entry.enter(s, journey, ids[start:start + 5000], engine.now())
    signals.work_available.send(engine=engine)  # NOTIFY the workers, as the API's enrollment does


def end_waits(engine: Engine) -> int:
    """Waits end now for every enrollment parked at the wait; the workers are notified if any did."""
    with engine.session() as s:
        ended = s.execute(
            update(Enrollment).where(Enrollment.status == "active", Enrollment.step_id == "wait",
                                     Enrollment.next_run_at > engine.now())
            .values(next_run_at=engine.now()).execution_options(synchronize_session=False)
        ).rowcount
    if ended:
        signals.work_available.send(engine=engine)
    return ended


def finished(engine: Engine, customers: int) -> bool:
    with engine.db.reader() as s:
        done = s.execute(select(func.count()).select_from(Enrollment).where(
            Enrollment.status != "active")).scalar_one()
        unsent = s.execute(select(func.count()).select_from(Delivery).where(
            Delivery.status == "queued")).scalar_one()
    return done == customers and unsent == 0


def run(url: str, workers: int, customers: int, offers: int, batch_size: int) -> dict[str, Any]:
    """One measurement: enrollments per second through the journey with `workers` worker processes."""
    empty_database(url)
    engine = startup.start(Settings(database_url=url, demo=False, scheduler=False))
    journey_id = seed(engine, customers, offers)
    processes = start_workers(engine, url, workers, batch_size)
    load_before = loadavg()
    try:
        cpu_before = sum(cpu_seconds(worker) for worker in processes)
        started = time.perf_counter()
        enroll(engine, journey_id, customers)
        while not finished(engine, customers):
            end_waits(engine)
            if time.perf_counter() - started > PATIENCE_SECONDS:
                raise SystemExit("the workers did not finish in time")
            time.sleep(POLL_SECONDS)
        elapsed = time.perf_counter() - started
        cpu_used = sum(cpu_seconds(worker) for worker in processes) - cpu_before
        load_after = loadavg()
    finally:
        stop_workers(processes)
    with engine.db.reader() as s:
        statuses = dict(s.execute(select(Enrollment.status, func.count()).group_by(Enrollment.status)).all())
        steps = s.execute(select(func.count()).select_from(EnrollmentHistory)).scalar_one()
        sent = s.execute(select(func.count()).select_from(Delivery).where(
            Delivery.status == "sent")).scalar_one()
    engine.close()
    return {"workers": workers, "seconds": round(elapsed, 2),
            "enrollments_per_s": round(customers / elapsed, 1),
            "steps_per_s": round(steps / elapsed, 1), "statuses": statuses, "deliveries_sent": sent,
            # CPU the workers got: far below `workers` x elapsed means they waited (commits, a busy machine).
            "workers_cpu_s": round(cpu_used, 2),
            "loadavg_before": load_before, "loadavg_after": load_after}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("JOURNEYS_BENCH_DATABASE_URL")
                        or os.environ.get("JOURNEYS_TEST_DATABASE_URL", ""))
    parser.add_argument("--customers", type=int, default=4000)
    parser.add_argument("--offers", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.db.startswith("postgresql"):
        raise SystemExit("needs PostgreSQL: --db postgresql+psycopg://... (its tables are dropped!)")
    runs = [run(args.db, int(count), args.customers, args.offers, args.batch_size)
            for count in args.workers.split(",")]
    rates = {str(result["workers"]): result["enrollments_per_s"] for result in runs}
    scaling: dict[str, Any] = dict(rates)
    if "1" in rates:
        for count in rates:
            if count != "1":
                scaling[f"ratio_{count}_over_1"] = round(rates[count] / rates["1"], 2)
    report = {"workers_scaling": scaling, "workers_runs": runs, "customers": args.customers,
              "offers": args.offers, "batch_size": args.batch_size, "cpus": os.cpu_count()}
    if args.json:
        print(json.dumps(report))
        return
    for result in runs:
        print(f"{result['workers']} worker(s): {result['enrollments_per_s']:,.0f} enrollments/s "
              f"({result['steps_per_s']:,.0f} steps/s, {result['seconds']} s, workers' CPU "
              f"{result['workers_cpu_s']} s), "
              f"load {result['loadavg_before']} -> {result['loadavg_after']}")
    print("workers_scaling", json.dumps(scaling))


if __name__ == "__main__":
    main()
