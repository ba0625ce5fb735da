"""The only module that imports APScheduler: it wakes the engine's jobs. The database stays the source of
truth; the jobs only decide when to look at it.

Jobs (each `max_instances=1, coalesce=True`): advance the runner, dispatch queued deliveries, sweep
(maxDuration exits, stale leases), segment backfill after activation, and this process's heartbeat.
`Scheduler.wake()` runs advance, dispatch and backfill now; it is connected to `signals.work_available` while
the scheduler runs, and on PostgreSQL a listener thread calls it when another process NOTIFYs
(runtime.notify).
One Scheduler per engine process (main.py, a worker), built on that process's engine.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler

from engine import signals
from engine.db import is_transient
from engine.delivery import dispatcher
from engine.engine import Engine
from engine.runtime import entry, exclusive, heartbeat, notify, runner

log = logging.getLogger(__name__)

# A job keeps going while its batches come back full, but yields after this long so the others run too.
SLICE_SECONDS = 2.0
SWEEP_SECONDS = 5.0
DISPATCH_BATCH = 100
RESCHEDULE_SECONDS = 0.02

WOKEN_JOBS = ("advance", "dispatch", "backfill")

class Scheduler:
    """The background jobs of one engine process of `role` (web or worker)."""

    def __init__(self, engine: Engine, role: str = "web") -> None:
        self.engine, self.role = engine, role
        self._scheduler: BackgroundScheduler | None = None
        self._listener: notify.Listener | None = None
        self._lock = threading.Lock()
        # Set by a wake-up, cleared by the job as it starts a pass: a job woken while it runs (APScheduler
        # skips that run: max_instances=1) makes another pass at once instead of waiting for its next tick.
        self._woken = {job_id: threading.Event() for job_id in WOKEN_JOBS}
        self._is_behind = False

    def start(self) -> None:
        """Start the background jobs (idempotent) and register this process's heartbeat."""
        engine = self.engine
        with self._lock:
            if self._scheduler is not None:
                return
            tick = engine.settings.tick_seconds
            scheduler = BackgroundScheduler(daemon=True, timezone=UTC)
            options = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
            scheduler.add_job(self._advance, "interval", seconds=tick, id="advance", **options)
            scheduler.add_job(self._dispatch, "interval", seconds=tick, id="dispatch", **options)
            scheduler.add_job(self._sweep, "interval", seconds=SWEEP_SECONDS, id="sweep", **options)
            scheduler.add_job(self._backfill, "interval", seconds=tick, id="backfill", **options)
            heartbeat.beat(engine, self.role)
            scheduler.add_job(self._beat, "interval", seconds=heartbeat.BEAT_SECONDS, id="heartbeat",
                              **options)
            # A job woken while it runs is skipped by max_instances; that is expected, not worth a warning.
            logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
            scheduler.start()
            self._scheduler = scheduler
            if not engine.db.is_sqlite:
                self._listener = notify.Listener(engine.db, self.wake)
                self._listener.start()
        signals.work_available.connect(self.on_work_available)
        self.wake()

    def stop(self) -> None:
        """Stop the background jobs and wait for running ones to finish."""
        signals.work_available.disconnect(self.on_work_available)
        with self._lock:
            scheduler, self._scheduler = self._scheduler, None
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()
        if scheduler is not None:
            scheduler.shutdown(wait=True)
            try:
                heartbeat.retire(self.engine)
            except Exception:  # stopping anyway: the row goes stale and drops out on its own
                log.warning("could not retire this process's heartbeat", exc_info=True)

    def on_work_available(self, engine: Engine, **_: object) -> None:
        """`signals.work_available` receiver: work became due on this scheduler's database (through its
        engine, or that engine acting for someone)."""
        if engine.db is self.engine.db:
            self.wake()

    def wake(self) -> None:
        """Run advance, dispatch and backfill now (no-op when the scheduler is not running)."""
        for job_id in WOKEN_JOBS:
            self._wake_job(job_id)

    def _wake_job(self, job_id: str) -> None:
        self._woken[job_id].set()
        self._run_at(job_id, datetime.now(UTC))

    def _passes(self, job_id: str, work: Callable[[], int]) -> int:
        """`_repeat(work)`, again while a wake-up came in during the pass (within one slice in all)."""
        total, started, woken = 0, time.monotonic(), self._woken[job_id]
        while True:
            woken.clear()
            total += _repeat(work)
            if not woken.is_set() or time.monotonic() - started > SLICE_SECONDS:
                return total

    def _run_at(self, job_id: str, moment: datetime) -> None:
        scheduler = self._scheduler
        if scheduler is None:
            return
        job = scheduler.get_job(job_id)
        if job is not None and (job.next_run_time is None or moment < job.next_run_time):
            with contextlib.suppress(JobLookupError):  # the scheduler stopped meanwhile
                job.modify(next_run_time=moment)

    def _job(self, name: str, work: Callable[[], object]) -> None:
        """Run one job's pass. A lock wait that ran out (busy) is not a failure: the job looks again at once
        rather than at its next tick; anything else is logged and the next tick tries again."""
        try:
            work()
        except Exception as error:
            if not is_transient(error):
                log.exception("%s job failed", name)
                return
            log.info("%s job met a busy database; it looks again", name)
            if name in WOKEN_JOBS:
                self._wake_job(name)

    def _advance(self) -> None:
        self._job("advance", self._advance_pass)

    def _advance_pass(self) -> None:
        engine = self.engine
        if self._passes("advance", self._advance_batch):
            # The batches may have queued deliveries: this process's dispatcher and the other processes'
            # (PostgreSQL) look now rather than at their next tick.
            self._wake_job("dispatch")
            notify.announce(engine)
        due = runner.next_due_at(engine)
        if due is not None:
            # Wake when the next enrollment falls due instead of up to a tick late. Never "now": this run
            # has not returned yet, and a job due while it still runs would be skipped.
            delay = max((due - engine.now()).total_seconds(), RESCHEDULE_SECONDS)
            self._run_at("advance", datetime.now(UTC) + timedelta(seconds=delay))
        if due is None or due > engine.now():
            self._behind(False)

    def _advance_batch(self) -> int:
        handled = runner.advance(self.engine)
        if handled >= self.engine.settings.batch_size:  # a full batch: more is due, a backlog to work through
            self._behind(True)
        return handled

    def _behind(self, behind: bool) -> None:
        """Announce when the runner starts working through a backlog and when it has caught up (request
        handling makes room for it meanwhile: ui/request_threads.py)."""
        if behind != self._is_behind:
            self._is_behind = behind
            signals.engine_behind.send(behind=behind, engine=self.engine)

    def _dispatch(self) -> None:
        self._job("dispatch", lambda: self._passes(
            "dispatch", lambda: dispatcher.dispatch_due(self.engine, DISPATCH_BATCH)))

    def _sweep(self) -> None:
        self._job("sweep", self._sweep_pass)

    def _sweep_pass(self) -> None:
        # Every engine process runs this job; one sweep at a time is enough (the others' would only wait on
        # the same rows).
        with exclusive.only_one(self.engine, "sweep") as mine:
            if mine:
                runner.sweep(self.engine)

    def _beat(self) -> None:
        self._job("heartbeat", lambda: heartbeat.beat(self.engine, self.role))

    def _backfill(self) -> None:
        self._job("backfill", lambda: self._passes("backfill", lambda: entry.backfill(self.engine)))


def _repeat(work: Callable[[], int]) -> int:
    """Run `work()` until it finds nothing (work that arrives meanwhile is picked up too), within a slice."""
    total, started = 0, time.monotonic()
    while handled := work():
        total += handled
        if time.monotonic() - started > SLICE_SECONDS:
            break
    return total
