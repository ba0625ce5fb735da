"""The scheduler's jobs: a busy database is not a failure (the job looks again), and the runner announces
when it starts working through a backlog and when it has caught up."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from engine import signals
from engine.engine import Engine
from engine.errors import Busy
from engine.runtime import runner
from engine.runtime.scheduler import Scheduler


@pytest.fixture
def scheduler(engine: Engine) -> Scheduler:
    """A scheduler on the test's engine, never started: its jobs are run by hand."""
    return Scheduler(engine)


@pytest.fixture
def announced(scheduler: Scheduler) -> Iterator[list[bool]]:
    seen: list[bool] = []

    def receiver(behind: bool, **_: object) -> None:
        seen.append(behind)

    signals.engine_behind.connect(receiver)
    yield seen
    signals.engine_behind.disconnect(receiver)
    scheduler._behind(False)


def test_a_job_that_meets_a_busy_database_looks_again_and_logs_no_failure(
        scheduler: Scheduler, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    woken: list[str] = []
    monkeypatch.setattr(scheduler, "_wake_job", woken.append)

    def busy() -> None:
        raise Busy("no write slot within 30 s")

    with caplog.at_level(logging.INFO, logger="engine.runtime.scheduler"):
        scheduler._job("advance", busy)
    assert woken == ["advance"]
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


def test_a_job_that_fails_otherwise_is_logged_as_failed(scheduler: Scheduler,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> None:
        raise ValueError("a bug")

    scheduler._job("sweep", broken)
    assert [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR] == [
        "sweep job failed"]


def test_the_runner_announces_a_backlog_once_and_when_it_has_caught_up(
        engine: Engine, scheduler: Scheduler, announced: list[bool], monkeypatch: pytest.MonkeyPatch) -> None:
    batches = iter([engine.settings.batch_size, engine.settings.batch_size, 3, 0])
    monkeypatch.setattr(runner, "advance", lambda engine: next(batches))
    monkeypatch.setattr(runner, "next_due_at", lambda engine: None)
    monkeypatch.setattr(scheduler, "_wake_job", lambda job_id: None)
    scheduler._advance_pass()
    assert announced == [True, False]
