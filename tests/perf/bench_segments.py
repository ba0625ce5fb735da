"""Segment recompute benchmark (a script, not a test):

    python tests/perf/bench_segments.py [--customers N] [--json]

On a temporary SQLite database of N customers (100,000 by default; six attributes each), measures:
- rebuild_per_s: customers per second through `segments.create_segment` with a rule, the path a user runs
  (keyset batches of plain rows, each customer's rules against one trimmed scope, memberships and the change
  log written), twice: a new segment, then the rule changed (a second rebuild that moves members out);
- scope_per_s / naive_per_s: the evaluation alone over the same customer views, as the rebuild does it (one
  scope per customer holding only the fields the rule reads) against the same-run baseline of handing CEL
  a fresh, whole variables dict per evaluation; `scope_ratio` is the one over the other.
Prints figures with the machine's load average; it is not a pytest test.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import select

from engine import startup
from engine.audience import segments
from engine.clock import VirtualClock
from engine.engine import Engine
from engine.expressions import evaluate
from engine.settings import Settings
from models.audience import Customer, SegmentIn, SegmentUpdate

RULE = "customer.age >= 30 && customer.country in ['DE', 'FR'] && customer.visits > 3"
CHANGED = "customer.age >= 40 && customer.country == 'DE'"


def seed(engine: Engine, count: int) -> None:
    moment = engine.now()
    with engine.session() as s:
        s.execute(Customer.__table__.insert(), [  # type: ignore[attr-defined]
            {"id": f"c{i:07d}", "attributes": {
                "age": 18 + i % 60, "country": ("DE", "FR", "US", "NL")[i % 4], "visits": i % 30,
                "tier": ("gold", "silver", "bronze")[i % 3], "spend": float(i % 900),
                "name": f"Customer {i}"},
             "flags": {}, "created_at": moment, "updated_at": moment}
            for i in range(count)
        ])


def rebuilds(engine: Engine, count: int) -> tuple[float, int, int]:
    """(customers per second over both rebuilds, members after the first, members after the second)."""
    started = time.perf_counter()
    created = segments.create_segment(engine, SegmentIn(id="seg_bench", name="Bench", rule=RULE))
    changed = segments.update_segment(engine, "seg_bench", SegmentUpdate(rule=CHANGED))
    elapsed = time.perf_counter() - started
    return 2 * count / elapsed, created["memberCount"], changed["memberCount"]


def evaluations(engine: Engine, views: list[dict], seconds: float = 3.0) -> tuple[float, float]:
    """(evaluations per second with one trimmed scope per customer, with a fresh whole dict each)."""
    moment = engine.now()

    def scoped() -> None:
        for view in views:
            segments.matches(engine, RULE, segments.customer_scope(view, [RULE], moment))

    def naive() -> None:
        for view in views:
            evaluate(engine, RULE, {"customer": view, "now": moment})

    rates = []
    for action in (scoped, naive):
        calls, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            action()
            calls += len(views)
        rates.append(calls / elapsed)
    return rates[0], rates[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = startup.start(Settings(database_url=f"sqlite:///{folder}/segments.db", demo=False,
                                        scheduler=False), VirtualClock())
        seed(engine, args.customers)
        rate, first, second = rebuilds(engine, args.customers)
        with engine.session() as s:
            rows = s.execute(select(Customer).limit(2000)).scalars().all()
            views = [segments.view_of(row, ()) for row in rows]
        scope_rate, naive_rate = evaluations(engine, views)
    figures = {"customers": args.customers, "rebuild_per_s": round(rate), "members": [first, second],
               "scope_per_s": round(scope_rate), "naive_per_s": round(naive_rate),
               "scope_ratio": round(scope_rate / naive_rate, 2), "load_average": round(os.getloadavg()[0], 2)}
    if args.json:
        print(json.dumps(figures))
        return
    print(f"segment rebuild over {args.customers} customers (new rule, then changed): "
          f"{figures['rebuild_per_s']} customers/s; members {first} then {second}")
    print(f"evaluation: one trimmed scope per customer {figures['scope_per_s']}/s, fresh whole dict "
          f"{figures['naive_per_s']}/s, ratio {figures['scope_ratio']} (load {figures['load_average']})")


if __name__ == "__main__":
    main()
