"""The only module that imports APScheduler: it wakes the engine's jobs. The database stays the source of
truth; the jobs only decide when to look at it.

Jobs (each `max_instances=1, coalesce=True`): advance the runner, dispatch queued deliveries, sweep
(maxDuration exits, stale leases), segment backfill after activation, and this process's heartbeat.
`wake()` runs advance, dispatch and backfill now; it is connected to `signals.work_available` while the
scheduler runs, and on PostgreSQL a listener thread calls it when another process NOTIFYs (runtime.notify).
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
from engine.core import core
from engine.db import is_transient
from engine.delivery import dispatcher
from engine.runtime import entry, exclusive, heartbeat, notify, runner

log = logging.getLogger(__name__)

# A job keeps going while its batches come back full, but yields after this long so the others run too.
SLICE_SECONDS = 2.0
SWEEP_SECONDS = 5.0
DISPATCH_BATCH = 100
RESCHEDULE_SECONDS = 0.02

WOKEN_JOBS = ("advance", "dispatch", "backfill")

_scheduler: BackgroundScheduler | None = None
_listener: notify.Listener | None = None
_lock = threading.Lock()


def start(role: str = "web") -> None:
    """Start the background jobs (idempotent), registered as an engine process of `role` (web or worker)."""
    global _scheduler, _listener
    with _lock:
        if _scheduler is not None:
            return
        tick = core().settings.tick_seconds
        scheduler = BackgroundScheduler(daemon=True, timezone=UTC)
        options = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
        scheduler.add_job(_advance, "interval", seconds=tick, id="advance", **options)
        scheduler.add_job(_dispatch, "interval", seconds=tick, id="dispatch", **options)
        scheduler.add_job(_sweep, "interval", seconds=SWEEP_SECONDS, id="sweep", **options)
        scheduler.add_job(_backfill, "interval", seconds=tick, id="backfill", **options)
        heartbeat.beat(role)
        scheduler.add_job(_beat, "interval", seconds=heartbeat.BEAT_SECONDS, id="heartbeat", args=[role],
                          **options)
        # A job woken while it runs is skipped by max_instances; that is expected, not worth a warning.
        logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
        scheduler.start()
        _scheduler = scheduler
        if not core().db.is_sqlite:
            _listener = notify.Listener(core().db, wake)
            _listener.start()
    signals.work_available.connect(wake)
    wake()


def stop() -> None:
    """Stop the background jobs and wait for running ones to finish."""
    global _scheduler, _listener
    signals.work_available.disconnect(wake)
    with _lock:
        scheduler, _scheduler = _scheduler, None
        listener, _listener = _listener, None
    if listener is not None:
        listener.stop()
    if scheduler is not None:
        scheduler.shutdown(wait=True)
        try:
            heartbeat.retire()
        except Exception:  # stopping anyway: the row goes stale and drops out on its own
            log.warning("could not retire this process's heartbeat", exc_info=True)


# Set by a wake-up, cleared by the job as it starts a pass: a job woken while it runs (APScheduler skips
# that run: max_instances=1) makes another pass at once instead of waiting for its next tick.
_woken = {job_id: threading.Event() for job_id in WOKEN_JOBS}


def wake() -> None:
    """Run advance, dispatch and backfill now (no-op when the scheduler is not running)."""
    for job_id in WOKEN_JOBS:
        _wake_job(job_id)


def _wake_job(job_id: str) -> None:
    _woken[job_id].set()
    _run_at(job_id, datetime.now(UTC))


def _passes(job_id: str, work: Callable[[], int]) -> int:
    """`_repeat(work)`, again while a wake-up came in during the pass (within one slice in all)."""
    total, started, woken = 0, time.monotonic(), _woken[job_id]
    while True:
        woken.clear()
        total += _repeat(work)
        if not woken.is_set() or time.monotonic() - started > SLICE_SECONDS:
            return total


def _run_at(job_id: str, moment: datetime) -> None:
    scheduler = _scheduler
    if scheduler is None:
        return
    job = scheduler.get_job(job_id)
    if job is not None and (job.next_run_time is None or moment < job.next_run_time):
        with contextlib.suppress(JobLookupError):  # the scheduler stopped meanwhile
            job.modify(next_run_time=moment)


def _repeat(work: Callable[[], int]) -> int:
    """Run `work()` until it finds nothing (work that arrives meanwhile is picked up too), within a slice."""
    total, started = 0, time.monotonic()
    while handled := work():
        total += handled
        if time.monotonic() - started > SLICE_SECONDS:
            break
    return total


def _job(name: str, work: Callable[[], object]) -> None:
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
            _wake_job(name)


def _advance() -> None:
    _job("advance", _advance_pass)


def _advance_pass() -> None:
    if _passes("advance", _advance_batch):
        # The batches may have queued deliveries: this process's dispatcher and the other processes'
        # (PostgreSQL) look now rather than at their next tick.
        _wake_job("dispatch")
        notify.announce()
    due = runner.next_due_at()
    if due is not None:
        # Wake when the next enrollment falls due instead of up to a tick late. Never "now": this run
        # has not returned yet, and a job due while it still runs would be skipped.
        delay = max((due - core().now()).total_seconds(), RESCHEDULE_SECONDS)
        _run_at("advance", datetime.now(UTC) + timedelta(seconds=delay))
    if due is None or due > core().now():
        _behind(False)


def _advance_batch() -> int:
    handled = runner.advance()
    if handled >= core().settings.batch_size:  # a full batch: more is due, a backlog to work through
        _behind(True)
    return handled


_is_behind = False


def _behind(behind: bool) -> None:
    """Announce when the runner starts working through a backlog and when it has caught up (request
    handling makes room for it meanwhile: ui/request_threads.py)."""
    global _is_behind
    if behind != _is_behind:
        _is_behind = behind
        signals.engine_behind.send(behind=behind)


def _dispatch() -> None:
    _job("dispatch", lambda: _passes("dispatch", lambda: dispatcher.dispatch_due(DISPATCH_BATCH)))


def _sweep() -> None:
    _job("sweep", _sweep_pass)


def _sweep_pass() -> None:
    # Every engine process runs this job; one sweep at a time is enough (the others' would only wait on the
    # same rows).
    with exclusive.only_one("sweep") as mine:
        if mine:
            runner.sweep()


def _beat(role: str) -> None:
    _job("heartbeat", lambda: heartbeat.beat(role))


def _backfill() -> None:
    _job("backfill", lambda: _passes("backfill", entry.backfill))
