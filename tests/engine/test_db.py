"""engine.db: which database errors are worth running the whole transaction again."""

from __future__ import annotations

import sqlite3

from psycopg import errors
from sqlalchemy.exc import IntegrityError, OperationalError

from engine.db import is_transient


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
