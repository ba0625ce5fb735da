"""Engine processes: the `worker` command, heartbeats (registration, expiry, the engine status list), and, on
PostgreSQL, NOTIFY wake-ups and a real worker subprocess moving enrollments."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine import startup
from engine.audience import customers
from engine.clock import VirtualClock
from engine.db import Database
from engine.engine import Engine
from engine.journeys import lifecycle
from engine.monitoring.engine_status import engine_status
from engine.runtime import entry, exclusive, heartbeat, notify
from engine.runtime.heartbeat import STALE_AFTER, Process
from engine.settings import Settings, parse_cli
from models.audience import CustomerIn
from models.common import iso
from models.enrollment import Enrollment
from models.journey import JourneyCreate
from models.workers import EngineWorker

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_ONLY = pytest.mark.skipif(
    not os.environ.get("JOURNEYS_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="needs PostgreSQL (LISTEN/NOTIFY, several processes on one database): "
           "set JOURNEYS_TEST_DATABASE_URL=postgresql+psycopg://...",
)
# Wall-clock patience for another process (a subprocess, a notification): never part of an assertion.
PATIENCE_SECONDS = 30.0

WEB = Process(id="web-host:100:aaaa", host="web-host", pid=100)
WORKER_A = Process(id="box-a:200:bbbb", host="box-a", pid=200)
WORKER_B = Process(id="box-b:300:cccc", host="box-b", pid=300)

# Branch, update, split and exit: instantaneous steps only, so a worker finishes an enrollment in one batch.
INSTANT_STEPS: list[dict[str, Any]] = [
    {"id": "tier", "type": "branch", "next": None,
     "config": {"conditions": [{"label": "gold", "expression": "customer.tier == 'gold'",
                                "targetStepId": "mark"}], "defaultStepId": "mark"}},
    {"id": "mark", "type": "update", "next": "ab",
     "config": {"operations": [{"op": "set", "attribute": "seen", "value": True}]}},
    {"id": "ab", "type": "split",
     "config": {"paths": [{"label": "A", "percent": 50, "targetStepId": "done"},
                          {"label": "B", "percent": 50, "targetStepId": "done"}]}},
    {"id": "done", "type": "exit", "config": {"reason": "finished"}},
]


def eventually(check: Callable[[], Any], what: str) -> Any:
    """Poll `check()` until it returns something truthy (another process is doing the work)."""
    deadline = time.monotonic() + PATIENCE_SECONDS
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


# ---- the command -------------------------------------------------------------------------------------------

def test_worker_help_exits_zero() -> None:
    env = {key: value for key, value in os.environ.items() if key != "PYTEST_CURRENT_TEST"}
    answer = subprocess.run([sys.executable, "main.py", "worker", "--help"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, env=env)
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.startswith("usage: journeys worker") and "--db" in answer.stdout


def test_worker_command_takes_the_database_before_or_after_it() -> None:
    before = parse_cli(["--db", "sqlite:///a.db", "worker"])
    after = parse_cli(["worker", "--db", "sqlite:///b.db"])
    assert (before.command, before.settings.database_url) == ("worker", "sqlite:///a.db")
    assert (after.command, after.settings.database_url) == ("worker", "sqlite:///b.db")


def test_web_process_can_leave_the_engine_to_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOURNEYS_SCHEDULER")  # the test setup turns the engine off
    assert parse_cli(["--no-scheduler"]).settings.scheduler is False
    assert parse_cli([]).settings.scheduler is True


# ---- heartbeats (virtual clock) ----------------------------------------------------------------------------

def test_first_beat_registers_the_process_and_engine_status_lists_it(engine: Engine) -> None:
    started = engine.now()
    heartbeat.beat(engine, "worker", WORKER_A)
    [listed] = engine_status(engine)["workers"]
    assert listed == {"id": WORKER_A.id, "host": "box-a", "pid": 200, "role": "worker",
                      "startedAt": iso(started), "lastBeatAt": iso(started)}


def test_later_beats_move_the_last_beat_but_keep_the_start(engine: Engine, clock: VirtualClock) -> None:
    started = engine.now()
    heartbeat.beat(engine, "web", WEB)
    beaten = clock.advance(seconds=heartbeat.BEAT_SECONDS)
    heartbeat.beat(engine, "web", WEB)
    [listed] = engine_status(engine)["workers"]
    assert listed["startedAt"] == iso(started)
    assert listed["lastBeatAt"] == iso(beaten)


def test_a_process_that_stops_beating_drops_out(engine: Engine, clock: VirtualClock) -> None:
    heartbeat.beat(engine, "worker", WORKER_A)
    clock.advance(seconds=10)
    heartbeat.beat(engine, "worker", WORKER_B)
    clock.advance(STALE_AFTER - timedelta(seconds=10))
    # A's last beat is exactly STALE_AFTER old: still listed; a moment later it is not.
    assert [row["id"] for row in engine_status(engine)["workers"]] == [WORKER_A.id, WORKER_B.id]
    clock.advance(seconds=1)
    assert [row["id"] for row in engine_status(engine)["workers"]] == [WORKER_B.id]
    # The next beat of a live process removes the stale row from the table too.
    heartbeat.beat(engine, "worker", WORKER_B)
    with engine.session() as s:
        assert list(s.execute(select(EngineWorker.id)).scalars()) == [WORKER_B.id]


def test_a_process_back_after_being_pruned_registers_again(engine: Engine, clock: VirtualClock) -> None:
    heartbeat.beat(engine, "worker", WORKER_A)
    clock.advance(STALE_AFTER * 3)
    heartbeat.beat(engine, "worker", WORKER_B)  # prunes A
    back = engine.now()
    heartbeat.beat(engine, "worker", WORKER_A)
    listed = {row["id"]: row for row in engine_status(engine)["workers"]}
    assert listed[WORKER_A.id]["startedAt"] == iso(back)


def test_a_clean_stop_leaves_the_list_at_once(engine: Engine) -> None:
    heartbeat.beat(engine, "worker", WORKER_A)
    heartbeat.beat(engine, "web", WEB)
    heartbeat.retire(engine, WORKER_A)
    assert [row["id"] for row in engine_status(engine)["workers"]] == [WEB.id]


def test_unknown_role_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="role"):
        heartbeat.beat(engine, "cron", WORKER_A)


def test_running_the_scheduler_registers_this_process(engine: Engine) -> None:
    from engine.runtime.scheduler import Scheduler

    scheduler = Scheduler(engine, role="worker")
    scheduler.start()
    try:
        [listed] = engine_status(engine)["workers"]
        assert (listed["id"], listed["pid"], listed["role"]) == (
            heartbeat.THIS_PROCESS.id, os.getpid(), "worker")
    finally:
        scheduler.stop()
    assert engine_status(engine)["workers"] == []


# ---- PostgreSQL: NOTIFY and worker processes ---------------------------------------------------------------

@pytest.fixture
def system_engine(journeys_env: str) -> Iterator[Engine]:
    """The engine on the test database with the wall clock: a worker subprocess reads the same time."""
    engine = startup.start(Settings(database_url=journeys_env, demo=False, scheduler=False))
    yield engine
    engine.close()


def test_one_sweep_at_a_time_across_processes(engine: Engine) -> None:
    """Two holders of the engine's connections stand for two processes (advisory locks are per connection)."""
    with exclusive.only_one(engine, "sweep") as first:
        assert first
        with exclusive.only_one(engine, "sweep") as second:
            # SQLite has one engine process, which always may; on PostgreSQL the second waits its turn.
            assert second is engine.db.is_sqlite
    with exclusive.only_one(engine, "sweep") as again:
        assert again


@POSTGRES_ONLY
def test_notify_wakes_a_listening_process(system_engine: Engine) -> None:
    woken = threading.Event()
    listener = notify.Listener(Database(system_engine.db.url), woken.set, own_sender="another-process")
    listener.start()
    try:
        assert listener.listening.wait(PATIENCE_SECONDS)
        eventually(woken.is_set, "the wake-up every (re)connect makes")
        woken.clear()
        notify.announce(system_engine)
        assert woken.wait(PATIENCE_SECONDS), "the notification did not reach the listener"
    finally:
        listener.stop()


@POSTGRES_ONLY
def test_a_process_does_not_wake_itself_twice(system_engine: Engine) -> None:
    """Its own jobs were woken directly: its own notification is ignored (another sender's is not)."""
    calls: list[str] = []
    own = notify.Listener(Database(system_engine.db.url), lambda: calls.append("own"))
    other = threading.Event()
    watcher = notify.Listener(Database(system_engine.db.url), other.set, own_sender="another-process")
    for listener in (own, watcher):
        listener.start()
    try:
        assert own.listening.wait(PATIENCE_SECONDS) and watcher.listening.wait(PATIENCE_SECONDS)
        eventually(other.is_set, "the watcher's connect wake-up")
        other.clear()
        calls.clear()
        notify.announce(system_engine)  # sent by this process, whose id `own` filters out
        assert other.wait(PATIENCE_SECONDS)
        time.sleep(0.5)  # the same notification had as long to reach `own`
        assert calls == []
    finally:
        for listener in (own, watcher):
            listener.stop()


@POSTGRES_ONLY
def test_worker_process_moves_enrollments_woken_by_notify_and_shows_in_engine_status(
    system_engine: Engine, journeys_env: str
) -> None:
    # A tick far longer than the test's patience: only a NOTIFY can get the worker to the enrollments in time.
    env = {**os.environ, "JOURNEYS_TICK_SECONDS": "600"}
    env.pop("PYTEST_CURRENT_TEST", None)
    worker = subprocess.Popen([sys.executable, "main.py", "worker", "--db", journeys_env], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        listed = eventually(
            lambda: [row for row in engine_status(system_engine)["workers"] if row["pid"] == worker.pid],
            "the worker's heartbeat")
        assert listed[0]["role"] == "worker"
        for number in range(20):
            customers.create_customer(system_engine, CustomerIn(id=f"c{number}", attributes={"tier": "gold"}))
        journey = lifecycle.create_journey(
            system_engine, JourneyCreate.model_validate({"name": "Quick", "steps": INSTANT_STEPS}))
        lifecycle.change_status(system_engine, journey.id, "active")
        time.sleep(1.0)  # the wake-up at activation finds nothing to do: enrollment must wake it again
        entry.enroll(system_engine, journey.id, [f"c{number}" for number in range(20)])

        def finished() -> bool:
            with system_engine.session() as s:
                return s.execute(select(func.count()).select_from(Enrollment).where(
                    Enrollment.status == "exited", Enrollment.exit_reason == "finished")).scalar_one() == 20

        eventually(finished, "the worker to move the 20 enrollments to their exit")
        assert all(customers.get_customer(system_engine, f"c{number}")["attributes"]["seen"]
                   for number in range(20))
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=PATIENCE_SECONDS)
    assert worker.returncode == 0, output
    assert "stopped" in output
    # A clean stop retires the heartbeat at once.
    assert [row for row in engine_status(system_engine)["workers"] if row["pid"] == worker.pid] == []
