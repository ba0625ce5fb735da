"""The one SQLAlchemy engine, shared by the UI loop and the scheduler threads, with two kinds of session:
`session()` for work that writes and `reader()` for work that only reads.

On SQLite a writer begins IMMEDIATE (it queues for the write lock up front, so a transaction that reads and
then writes never meets "database is locked" half way), while a reader begins DEFERRED and, in WAL mode,
reads its snapshot without waiting for any writer. Writers of this process first queue in its writer lane,
one at a time in arrival order, because SQLite's own busy handler polls and is unfair: under many writers some
waited past the busy timeout and failed. PostgreSQL needs neither: both kinds are plain sessions.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel, create_engine

import models  # noqa: F401  (registers every table on SQLModel.metadata)
from engine.errors import Busy

if TYPE_CHECKING:
    from engine.access.roles import Actor

log = logging.getLogger(__name__)
T = TypeVar("T")

# Execution option naming how a SQLite transaction begins ("IMMEDIATE" for writers, "DEFERRED" for readers).
BEGIN = "journeys_begin"
# PostgreSQL SQLSTATEs worth another try: serialization failure, deadlock detected, lock not available.
TRANSIENT_STATES = frozenset({"40001", "40P01", "55P03"})
# Connection info key: this connection's transaction holds the writer lane.
IN_LANE = "journeys_in_lane"
# SQLite's words when a lock wait ran out (another process held the write lock past busy_timeout).
SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets readers see their snapshot while a writer writes; busy_timeout rides out short write locks.
    # The driver's own transaction handling is switched off so the lane's begin listener decides how to begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class WriterLane:
    """This process's SQLite writers, one at a time, first come first served. A writer that waits longer
    than `wait_seconds` gives up with Busy (the API answers 503 with Retry-After; engine jobs try again).

    Re-entrant per thread: a thread already in the lane passes (its nested transaction then meets SQLite's
    own lock, as it would without the lane)."""

    def __init__(self, wait_seconds: float) -> None:
        self.wait_seconds = wait_seconds
        self._turn = threading.Condition()
        self._queue: deque[object] = deque()
        self._holder: int | None = None
        self._depth = 0

    def enter(self) -> None:
        me = threading.get_ident()
        with self._turn:
            if self._holder == me:
                self._depth += 1
                return
            ticket = object()
            self._queue.append(ticket)
            if not self._turn.wait_for(lambda: self._holder is None and self._queue[0] is ticket,
                                       timeout=self.wait_seconds):
                self._queue.remove(ticket)
                self._turn.notify_all()  # the one behind may be first now
                raise Busy(f"the database is busy: no write slot within {self.wait_seconds:g} s",
                           retry_after=max(1, round(self.wait_seconds / 10)))
            self._queue.popleft()
            self._holder, self._depth = me, 1

    def leave(self) -> None:
        with self._turn:
            self._depth -= 1
            if self._depth <= 0:
                self._holder, self._depth = None, 0
                self._turn.notify_all()

    @property
    def waiting(self) -> int:
        return len(self._queue)


def _lane_listeners(engine: Engine, lane: WriterLane) -> None:
    """Writers (BEGIN IMMEDIATE) take the lane before they begin and leave it when they commit or roll back,
    or at the latest when their connection goes back to the pool."""

    def begin(connection) -> None:  # type: ignore[no-untyped-def]
        mode = connection.get_execution_options().get(BEGIN, "IMMEDIATE")
        if mode == "IMMEDIATE":
            lane.enter()
            connection.info[IN_LANE] = True
        try:
            connection.exec_driver_sql(f"BEGIN {mode}")
        except BaseException:
            end(connection)
            raise

    def end(connection) -> None:  # type: ignore[no-untyped-def]
        if connection.info.pop(IN_LANE, False):
            lane.leave()

    def checkin(_dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
        if record.info.pop(IN_LANE, False):
            lane.leave()

    event.listen(engine, "begin", begin)
    event.listen(engine, "commit", end)
    event.listen(engine, "rollback", end)
    event.listen(engine.pool, "checkin", checkin)


class ActingSession(Session):
    """A session that knows who its changes are made by (None: the engine itself), for the audit log."""

    def __init__(self, bind: Engine, actor: Actor | None) -> None:
        super().__init__(bind, expire_on_commit=False)
        self.actor = actor


class Database:
    def __init__(self, url: str, write_wait_seconds: float = 30.0) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.lane: WriterLane | None = None
        if self.is_sqlite:
            self.engine: Engine = create_engine(
                url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=10, max_overflow=20
            )
            self.lane = WriterLane(write_wait_seconds)
            event.listen(self.engine, "connect", _sqlite_pragmas)
            _lane_listeners(self.engine, self.lane)
        else:
            self.engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
        self._reading = self.engine.execution_options(**{BEGIN: "DEFERRED"})

    def create_all(self) -> None:
        SQLModel.metadata.create_all(self.engine)

    def drop_all(self) -> None:
        SQLModel.metadata.drop_all(self.engine)

    @contextmanager
    def session(self, actor: Actor | None = None) -> Iterator[ActingSession]:
        """A writing session making its changes as `actor`: commits on success, rolls back on error (what
        runs after the commit is the unit of work's: engine.unit_of_work)."""
        with ActingSession(self.engine, actor) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A reading session: never waits for a writer on SQLite; whatever it did is rolled back."""
        with Session(self._reading, expire_on_commit=False) as session:
            try:
                yield session
            finally:
                session.rollback()

    def dispose(self) -> None:
        self.engine.dispose()


def is_busy(error: BaseException) -> bool:
    """A lock wait that ran out: no write slot in the lane, or SQLite's busy timeout (another process)."""
    while error is not None:
        if isinstance(error, Busy):
            return True
        orig = error.orig if isinstance(error, DBAPIError) else error
        if isinstance(orig, sqlite3.OperationalError):
            return str(orig).startswith(SQLITE_BUSY)
        error = error.__cause__  # type: ignore[assignment]
    return False


def is_transient(error: BaseException) -> bool:
    """A PostgreSQL deadlock or serialization failure, or a lock wait that ran out: the transaction is sound,
    only unlucky. Retry it."""
    if is_busy(error):
        return True
    while error is not None:
        # Wrapped by SQLAlchemy, or straight from the driver (the hottest writes go through its cursor).
        orig = error.orig if isinstance(error, DBAPIError) else error
        state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        if state is not None or isinstance(error, DBAPIError):
            return state in TRANSIENT_STATES
        error = error.__cause__  # type: ignore[assignment]
    return False


# How retries wait (replaced in tests, where nothing sleeps).
backoff_pause: Callable[[float], Any] = time.sleep


def retrying(work: Callable[[], T], attempts: int = 5, first_pause: float = 0.05,
             transient: Callable[[BaseException], bool] = is_transient) -> T:
    """`work()` again (whole transaction) after a transient error, backing off 50 ms, 100 ms, 200 ms, ..."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except Exception as error:
            if attempt == attempts or not transient(error):
                raise
            log.info("transient database error (attempt %d): %s", attempt, error)
            backoff_pause(first_pause * 2 ** (attempt - 1))
    raise AssertionError("unreachable")
