"""Benchmark: time to compute one journey's goal results at 100,000 enrollments.

    python tests/perf/bench_goals.py [--enrollments N] [--repeat N] [--db URL] [--json]

Builds a database at the schema head (a temporary SQLite file, or the given URL: its tables are dropped and
made again), loads one journey with a 50/50 split, N enrollments, five history rows each (the split's among
them), and about 1.5 events per customer (a third of them purchases, some outside the 7-day window), then
times `engine.monitoring.goals.journey_goal` (median of --repeat runs after one warm-up, which also pays
statsmodels' import). Prints figures; not a pytest test.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import insert

from engine import startup
from engine.clock import VirtualClock
from engine.engine import Engine
from engine.monitoring import goals
from engine.settings import Settings
from models.audience import Customer, Event
from models.enrollment import Enrollment, EnrollmentHistory
from models.journey import Journey
from tests.conftest import empty_database

JOURNEY = "jrn_bench"
NOW = datetime(2026, 6, 1, 12, 0, 0)
SPAN = timedelta(days=30)
CHUNK = 20_000
STEPS: list[dict[str, Any]] = [
    {"id": "welcome", "type": "send", "name": "Welcome"},
    {"id": "ab", "type": "split", "name": "A/B", "config": {"paths": [
        {"label": "A", "percent": 50, "targetStepId": "plain"},
        {"label": "B", "percent": 50, "targetStepId": "rich"}]}},
    {"id": "plain", "type": "send", "name": "Plain offer", "next": "done"},
    {"id": "rich", "type": "send", "name": "Rich offer", "next": "done"},
    {"id": "done", "type": "exit", "name": "Done"},
]


def load(engine: Engine, count: int) -> None:
    rnd = random.Random(11)
    enrollments, history, events, customers = [], [], [], []
    for number in range(count):
        customer, entered = f"c{number}", NOW - SPAN * rnd.random()
        branch = "A" if rnd.random() < 0.5 else "B"
        customers.append({"id": customer, "attributes": {}, "flags": {}, "created_at": entered,
                          "updated_at": entered})
        enrollments.append({"id": f"enr_{number}", "journey_id": JOURNEY, "version": 1,
                            "customer_id": customer, "step_id": "done", "status": "exited", "context": {},
                            "visits": 4,
                            "entered_at": entered, "ended_at": entered, "exit_reason": "exited",
                            "updated_at": entered})
        target = "plain" if branch == "A" else "rich"
        visits = (("welcome", "send", "sent", "ab"), ("ab", "split", branch, target),
                  (target, "send", "sent", "done"), ("done", "exit", "exited", None),
                  ("done", "exit", "ended", None))
        for step, kind, outcome, following in visits:
            history.append({"enrollment_id": f"enr_{number}", "journey_id": JOURNEY, "customer_id": customer,
                            "step_id": step, "type": kind, "version": 1, "at": entered, "outcome": outcome,
                            "next_step_id": following, "detail": {}})
        if rnd.random() < (0.30 if branch == "A" else 0.36):
            bought = entered + timedelta(days=8 * rnd.random())  # an eighth of them after the 7 days
            events.append(_event(len(events), customer, "purchase", bought))
        events.append(_event(len(events), customer, "browse", entered + timedelta(days=rnd.random())))
    with engine.session() as s:
        s.add(Journey(id=JOURNEY, name="Bench", status="active", steps=STEPS,
                      goal={"eventType": "purchase", "withinDays": 7}, created_at=NOW - SPAN, updated_at=NOW))
    for table, rows in ((Customer, customers), (Enrollment, enrollments), (EnrollmentHistory, history),
                        (Event, events)):
        for start in range(0, len(rows), CHUNK):
            with engine.session() as s:
                s.execute(insert(table), rows[start:start + CHUNK])  # type: ignore[arg-type]


def _event(number: int, customer: str, kind: str, at: datetime) -> dict[str, Any]:
    return {"id": f"evt_{number}", "customer_id": customer, "type": kind, "properties": {}, "occurred_at": at,
            "received_at": at}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--enrollments", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", default="")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    url = args.db or f"sqlite:///{tempfile.mkdtemp()}/bench_goals.db"
    empty_database(url)
    engine = startup.start(Settings(database_url=url, demo=False, scheduler=False), VirtualClock(NOW))
    started = time.perf_counter()
    load(engine, args.enrollments)
    loaded = time.perf_counter() - started
    goals.journey_goal(engine, JOURNEY)  # warm-up: statsmodels' import, caches
    timings = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        result = goals.journey_goal(engine, JOURNEY)
        timings.append(time.perf_counter() - started)
    figures = {"database": url.split(":", 1)[0], "enrollments": args.enrollments, "load_s": round(loaded, 1),
               "goal_ms": round(statistics.median(timings) * 1000, 1),
               "overall": result["overall"], "verdict": result["splits"][0]["verdict"]["text"]}
    lines = "\n".join(f"{key}: {value}" for key, value in figures.items())
    print(json.dumps(figures) if args.json else lines)


if __name__ == "__main__":
    main()
