"""`journeys worker`: a process that runs the engine (runner, sweeps, segment backfills, heartbeat) and the
dispatcher, without the web app, until SIGTERM or SIGINT.

Any number of workers (and web processes started with or without `--no-scheduler`) share one PostgreSQL
database: each claims its batches with FOR UPDATE SKIP LOCKED and leases, and they wake each other with
LISTEN/NOTIFY (engine.runtime.notify). On SQLite one engine process is the sensible limit: writers queue
for the database's single write lock.
"""

from __future__ import annotations

import logging
import signal
import threading

from sqlalchemy.engine import make_url

from engine import startup
from engine.runtime import scheduler
from engine.runtime.heartbeat import THIS_PROCESS
from engine.settings import Settings

log = logging.getLogger(__name__)

# How often the main thread looks up from waiting (signals are handled between its waits).
WAIT_SECONDS = 1.0


def run(settings: Settings, stopping: threading.Event | None = None) -> None:
    """Upgrade/open the database, connect the engine's receivers and run the jobs as a `worker` until
    `stopping` is set (by SIGTERM or SIGINT when not given); running batches finish before it returns."""
    stopping = stopping or _stop_on_signals()
    engine = startup.start(settings)
    jobs = scheduler.Scheduler(engine, role="worker")
    jobs.start()
    log.info("worker %s running the engine on %s", THIS_PROCESS.id,
             make_url(engine.db.url).render_as_string(hide_password=True))
    try:
        while not stopping.wait(WAIT_SECONDS):
            pass
    finally:
        jobs.stop()
        engine.close()
        log.info("worker %s stopped", THIS_PROCESS.id)


def _stop_on_signals() -> threading.Event:
    stopping = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stopping.set())
    return stopping
