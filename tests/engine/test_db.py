"""engine.db: which database errors are worth running the whole transaction again, and SQLite's writer lane
(one writer of the process at a time, in arrival order, refused busy after a bounded wait)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg import errors
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from engine.db import Database, is_busy, is_transient
from engine.errors import Busy


def test_a_deadlock_is_transient_wrapped_by_sqlalchemy_or_straight_from_the_driver() -> None:
    raw = errors.DeadlockDetected("deadlock detected")
    assert is_transient(raw)
    assert is_transient(OperationalError("INSERT ...", {}, raw))


def test_a_serialization_failure_raised_from_a_step_error_is_transient() -> None:
    try:
        try:
            raise errors.SerializationFailure("could not serialize access")
        except errors.SerializationFailure as cause:
            raise RuntimeError("step failed") from cause
    except RuntimeError as error:
        assert is_transient(error)


def test_a_unique_violation_or_a_sqlite_error_is_not_transient() -> None:
    raw = errors.UniqueViolation("duplicate key")
    assert not is_transient(raw)
    assert not is_transient(IntegrityError("INSERT ...", {}, raw))
    assert not is_transient(sqlite3.OperationalError("no such table: x"))
    assert not is_transient(ValueError("not a database error"))


def test_a_lock_wait_that_ran_out_is_busy_and_transient() -> None:
    locked = sqlite3.OperationalError("database is locked")
    assert is_busy(locked) and is_transient(locked)
    assert is_busy(OperationalError("BEGIN IMMEDIATE", {}, locked))
    assert is_busy(Busy("no write slot"))
    assert not is_busy(sqlite3.OperationalError("no such table: x"))


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'lane.db'}", write_wait_seconds=0.3)
    with db.engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
    yield db
    db.dispose()


def _holding(db: Database) -> tuple[threading.Thread, threading.Event]:
    """A writer in another thread that keeps the write slot until the returned event is set."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with db.session() as s:
            s.execute(text("INSERT INTO t VALUES (0)"))
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    assert holding.wait(10)
    return thread, release


def test_writers_of_one_process_take_the_write_slot_in_arrival_order(database: Database) -> None:
    database.lane.wait_seconds = 10  # type: ignore[union-attr]
    holder, release = _holding(database)
    writers = []
    for n in range(1, 6):
        writer = threading.Thread(target=_insert, args=(database, n))
        writer.start()
        writers.append(writer)
        while database.lane.waiting < n:  # type: ignore[union-attr]  # queued before the next one comes
            threading.Event().wait(0.001)
    release.set()
    for thread in (holder, *writers):
        thread.join()
    with database.reader() as s:
        assert [n for (n,) in s.execute(text("SELECT n FROM t ORDER BY rowid"))] == [0, 1, 2, 3, 4, 5]


def _insert(db: Database, n: int) -> None:
    with db.session() as s:
        s.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})


def test_a_writer_that_waits_too_long_is_refused_busy_and_nothing_changes(database: Database) -> None:
    holder, release = _holding(database)
    with pytest.raises(Busy) as refused:
        _insert(database, 1)
    assert refused.value.status == 503 and refused.value.retry_after >= 1
    with database.reader() as s:  # readers never wait for the slot
        assert s.execute(text("SELECT count(*) FROM t")).scalar() == 0
    release.set()
    holder.join()
    _insert(database, 2)  # the slot is free again, and nobody is left queued
    assert database.lane.waiting == 0  # type: ignore[union-attr]
    with database.reader() as s:
        assert [n for (n,) in s.execute(text("SELECT n FROM t ORDER BY n"))] == [0, 2]


def test_a_failed_transaction_gives_the_write_slot_back(database: Database) -> None:
    with pytest.raises(ValueError), database.session() as s:
        s.execute(text("INSERT INTO t VALUES (1)"))
        raise ValueError("the step failed")
    _insert(database, 2)  # would wait 0.3 s and fail Busy if the slot had stayed taken
    with database.reader() as s:
        assert [n for (n,) in s.execute(text("SELECT n FROM t"))] == [2]
