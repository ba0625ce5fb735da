"""The only module that imports APScheduler: it wakes the engine's jobs. The database stays the source of
truth; the jobs only decide when to look at it.

Jobs (each `max_instances=1, coalesce=True`): advance the runner, dispatch queued deliveries, sweep
(maxDuration exits, stale leases) and segment backfill after activation. `wake()` runs advance and
dispatch now; it is connected to `signals.work_available` while the scheduler runs.
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
from engine.delivery import dispatcher
from engine.runtime import entry, runner

log = logging.getLogger(__name__)

# A job keeps going while its batches come back full, but yields after this long so the others run too.
SLICE_SECONDS = 2.0
SWEEP_SECONDS = 5.0
DISPATCH_BATCH = 100
RESCHEDULE_SECONDS = 0.02

_scheduler: BackgroundScheduler | None = None
_lock = threading.Lock()


def start() -> None:
    """Start the background jobs (idempotent)."""
    global _scheduler
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
        # A job woken while it runs is skipped by max_instances; that is expected, not worth a warning.
        logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
        scheduler.start()
        _scheduler = scheduler
    signals.work_available.connect(wake)
    wake()


def stop() -> None:
    """Stop the background jobs and wait for running ones to finish."""
    global _scheduler
    signals.work_available.disconnect(wake)
    with _lock:
        scheduler, _scheduler = _scheduler, None
    if scheduler is not None:
        scheduler.shutdown(wait=True)


def wake() -> None:
    """Run advance and dispatch now (no-op when the scheduler is not running)."""
    for job_id in ("advance", "dispatch"):
        _run_at(job_id, datetime.now(UTC))


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


def _advance() -> None:
    try:
        _repeat(runner.advance)
        due = runner.next_due_at()
        if due is not None:
            # Wake when the next enrollment falls due instead of up to a tick late. Never "now": this run
            # has not returned yet, and a job due while it still runs would be skipped.
            delay = max((due - core().now()).total_seconds(), RESCHEDULE_SECONDS)
            _run_at("advance", datetime.now(UTC) + timedelta(seconds=delay))
    except Exception:
        log.exception("advance job failed")


def _dispatch() -> None:
    try:
        _repeat(lambda: dispatcher.dispatch_due(DISPATCH_BATCH))
    except Exception:
        log.exception("dispatch job failed")


def _sweep() -> None:
    try:
        runner.sweep()
    except Exception:
        log.exception("sweep job failed")


def _backfill() -> None:
    try:
        _repeat(entry.backfill)
    except Exception:
        log.exception("backfill job failed")
