"""Benchmark: time to compute one journey's metrics at 1,000,000 enrollments and 5,000,000 history rows.

    python tests/perf/bench_metrics.py [--enrollments N] [--history N] [--deliveries N] [--repeat N] [--db F]

Builds a SQLite file with the models' schema (a temporary one, or --db kept and reused), bulk-loads a month
of one busy journey with raw executemany (plus 1,000,000 deliveries and 100,000 responses, with the
counters consistent with the rows), then times `engine.monitoring.metrics.journey_metrics` and
`engine.monitoring.engine_status.engine_status` (median of --repeat runs after one warm-up) against a
same-process baseline: the naive per-step/status GROUP BY count over the journey's enrollments that the
maintained counters replace. Target: metrics < 50 ms. Prints figures; not a pytest test.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine import startup
from engine.clock import VirtualClock
from engine.counters import SERIES_WIDTHS, slot_of
from engine.engine import Engine
from engine.monitoring import engine_status, metrics
from engine.settings import Settings
from models.journey import Journey

JOURNEY = "jrn_bench"
STEPS = ["welcome", "pause", "pick", "offer", "wait_click", "check", "thanks", "remind"]
SEND_STEPS = ["welcome", "offer", "thanks", "remind"]
CHANNELS = ["ch_inapp", "ch_webhook", "ch_mail"]
NOW = datetime(2026, 6, 1, 12, 0, 0)
SPAN = timedelta(days=30)
CHUNK = 100_000


def stamp(moment: datetime) -> str:
    """SQLAlchemy's SQLite DateTime storage format."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def chunks(rows: Iterator[tuple], size: int = CHUNK) -> Iterator[list[tuple]]:
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def load(path: str, enrollments: int, history: int, deliveries: int) -> None:
    """Fill the database the way a busy month would: counters consistent with the rows."""
    rnd = random.Random(7)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    steps = [{"id": step, "type": "send" if step in SEND_STEPS else "wait", "name": step.title()}
             for step in STEPS]
    con.execute(
        "INSERT INTO journey (id, name, description, status, max_duration, entry_conditions, steps, version,"
        " created_at, updated_at) VALUES (?, 'Bench', '', 'active', 30, '{}', ?, 1, ?, ?)",
        (JOURNEY, json.dumps(steps), stamp(NOW - SPAN), stamp(NOW)),
    )
    con.execute("INSERT INTO channel (id, name, type, config, created_at, updated_at) VALUES"
                " ('ch_inapp', 'In-app', 'in_app', '{}', ?, ?)", (stamp(NOW), stamp(NOW)))
    current = dict.fromkeys(STEPS, 0)
    slots: Counter[tuple[int, datetime, str]] = Counter()
    status_counts = {"active": 0, "completed": 0, "exited": 0, "failed": 0}
    seconds = int(SPAN.total_seconds())

    def enrollment_rows() -> Iterator[tuple]:
        for number in range(enrollments):
            entered = NOW - timedelta(seconds=rnd.randrange(seconds))
            status = rnd.choices(("active", "completed", "exited", "failed"), (50, 40, 9, 1))[0]
            status_counts[status] += 1
            step = rnd.choice(STEPS)
            ended_at = entered + timedelta(hours=rnd.randrange(1, 72))
            ended = stamp(ended_at) if status != "active" else None
            for width in SERIES_WIDTHS:
                slots[(width, slot_of(entered, width), "entered")] += 1
                if status == "completed":
                    slots[(width, slot_of(ended_at, width), "completed")] += 1
            if status == "active":
                current[step] += 1
            due = stamp(entered + timedelta(days=rnd.randrange(1, 40))) if status == "active" else None
            yield (f"enr_{number}", JOURNEY, 1, f"cus_{number}", step, status, due, "{}", 3,
                   stamp(entered), ended, None, None, stamp(entered))

    con.executemany(
        "INSERT INTO enrollment (id, journey_id, version, customer_id, step_id, status, next_run_at, context,"
        " visits, entered_at, ended_at, exit_reason, error, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        enrollment_rows(),
    )

    def history_rows() -> Iterator[tuple]:
        for number in range(history):
            enrollment = number % enrollments
            step = STEPS[number % len(STEPS)]
            at = NOW - timedelta(seconds=rnd.randrange(seconds))
            yield (f"enr_{enrollment}", JOURNEY, f"cus_{enrollment}", step, "wait", 1, stamp(at), "ok",
                   STEPS[(number + 1) % len(STEPS)], "{}")

    for batch in chunks(history_rows()):
        con.executemany(
            "INSERT INTO enrollmenthistory (enrollment_id, journey_id, customer_id, step_id, type, version,"
            " at, outcome, next_step_id, detail) VALUES (?,?,?,?,?,?,?,?,?,?)", batch)

    delivered: Counter[tuple[str, str, str]] = Counter()
    responded: Counter[tuple[str, str]] = Counter()

    def delivery_rows() -> Iterator[tuple]:
        for number in range(deliveries):
            status = rnd.choices(("sent", "queued", "failed", "suppressed"), (90, 3, 4, 3))[0]
            created = stamp(NOW - timedelta(seconds=rnd.randrange(seconds)))
            step, channel = rnd.choice(SEND_STEPS), rnd.choice(CHANNELS)
            delivered[(step, channel, status)] += 1
            yield (f"dlv_{number}", f"key_{number}", f"cus_{number % enrollments}", channel,
                   "off_1", JOURNEY, f"enr_{number % enrollments}", step, status, 1, "{}",
                   created, created if status == "queued" else None)

    for batch in chunks(delivery_rows()):
        con.executemany(
            "INSERT INTO delivery (id, idempotency_key, customer_id, channel_id, offer_id, journey_id,"
            " enrollment_id, step_id, status, attempts, payload, created_at, next_attempt_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", batch)

    def response_rows() -> Iterator[tuple]:
        for number in range(0, deliveries, 10):  # roughly one response per ten deliveries
            outcome = rnd.choices(("click", "conversion", "dismiss"), (6, 2, 2))[0]
            step = rnd.choice(SEND_STEPS)
            responded[(step, outcome)] += 1  # one response per delivery: each is its delivery's first
            yield (f"rsp_{number}", f"dlv_{number}", f"cus_{number % enrollments}", "off_1", JOURNEY,
                   f"enr_{number % enrollments}", step, outcome, stamp(NOW))

    for batch in chunks(response_rows()):
        con.executemany(
            "INSERT INTO response (id, delivery_id, customer_id, offer_id, journey_id, enrollment_id,"
            " step_id, outcome, at) VALUES (?,?,?,?,?,?,?,?,?)", batch)

    con.executemany(
        "INSERT INTO deliverycounter (journey_id, step_id, channel_id, status, count) VALUES (?,?,?,?,?)",
        [(JOURNEY, *key, count) for key, count in delivered.items()])
    con.executemany("INSERT INTO responsecounter (journey_id, step_id, outcome, count) VALUES (?,?,?,?)",
                    [(JOURNEY, *key, count) for key, count in responded.items()])
    con.executemany("INSERT INTO stepcounter (journey_id, step_id, current, passed) VALUES (?,?,?,?)",
                    [(JOURNEY, step, current[step], history // len(STEPS)) for step in STEPS])
    con.executemany("INSERT INTO edgecounter (journey_id, source, target, count) VALUES (?,?,?,?)",
                    [(JOURNEY, STEPS[i], STEPS[(i + 1) % len(STEPS)], history // len(STEPS))
                     for i in range(len(STEPS))])
    con.executemany("INSERT INTO seriescounter (journey_id, width, slot, name, count) VALUES (?,?,?,?,?)",
                    [(JOURNEY, width, stamp(slot), name, n) for (width, slot, name), n in slots.items()])
    ended = {name: status_counts[name] for name in ("completed", "exited", "failed")}
    totals = {"entered": enrollments, **ended, "exited:manual": status_counts["exited"]}
    con.executemany("INSERT INTO journeycounter (journey_id, name, value) VALUES (?,?,?)",
                    [(JOURNEY, name, value) for name, value in totals.items()])
    con.commit()
    con.execute("ANALYZE")
    con.close()


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median milliseconds of `repeat` calls after one warm-up."""
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def naive_counts(engine: Engine) -> object:
    """What the counters replace: counting enrollments per step and status on every refresh."""
    with engine.session() as s:
        connection = s.connection().connection.driver_connection
        return connection.execute(
            "SELECT step_id, status, count(*) FROM enrollment WHERE journey_id = ? GROUP BY step_id, status",
            (JOURNEY,)).fetchall()


def report(engine: Engine, repeat: int) -> None:
    baseline = timed(lambda: naive_counts(engine), repeat)
    figures = {
        "journey_metrics, 24 h series": timed(lambda: metrics.journey_metrics(engine, JOURNEY), repeat),
        "journey_metrics, 30 d series": timed(lambda: metrics.journey_metrics(engine, JOURNEY, 720),
                                              repeat),
        "engine_status": timed(lambda: engine_status.engine_status(engine), repeat),
    }
    print(f"baseline: naive GROUP BY count over enrollments     {baseline:8.1f} ms")
    for name, ms in figures.items():
        verdict = "ok (< 50 ms)" if ms < 50 else "OVER 50 ms"
        print(f"{name:<50} {ms:8.1f} ms  ({ms / baseline:.2f}x baseline)  {verdict}")
    print("where journey_metrics spends it:")
    for name, ms in parts(engine, repeat).items():
        print(f"   {name:<47} {ms:8.1f} ms")


def parts(engine: Engine, repeat: int) -> dict[str, float]:
    """The pieces of journey_metrics timed alone (same session), to show which read needs what."""
    with engine.session() as s:
        journey = s.get(Journey, JOURNEY)
        steps = metrics._steps(s, journey)
        deliveries = metrics._deliveries(s, JOURNEY)
        return {
            "counters (steps, totals, edges)": timed(
                lambda: (metrics._steps(s, journey), metrics._totals(s, JOURNEY, steps),
                         metrics._edges(s, JOURNEY)), repeat),
            "deliveries by step, channel, status (counters)": timed(
                lambda: metrics._deliveries(s, JOURNEY), repeat),
            "response rates (counters)": timed(
                lambda: metrics._response_rates(s, JOURNEY, steps, deliveries), repeat),
            "series, 24 hourly buckets": timed(lambda: metrics.series(s, journey, NOW, 24), repeat),
            "series, 30 daily buckets": timed(lambda: metrics.series(s, journey, NOW, 720), repeat),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enrollments", type=int, default=1_000_000)
    parser.add_argument("--history", type=int, default=5_000_000)
    parser.add_argument("--deliveries", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--db", help="keep the database in this file and reuse it when it exists")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.db or f"{folder}/bench.db"
        fresh = not Path(path).exists()
        engine = startup.start(Settings(database_url=f"sqlite:///{path}", demo=False, scheduler=False),
                               VirtualClock(NOW))
        if fresh:
            start = time.perf_counter()
            load(path, args.enrollments, args.history, args.deliveries)
            print(f"loaded {args.enrollments:,} enrollments, {args.history:,} history rows, "
                  f"{args.deliveries:,} deliveries in {time.perf_counter() - start:.1f} s")
        result = metrics.journey_metrics(engine, JOURNEY)
        print(f"journey with {result['totals']['entered']:,} enrollments")
        report(engine, args.repeat)
        engine.close()


if __name__ == "__main__":
    main()
