"""Wake-ups between engine processes on PostgreSQL: LISTEN/NOTIFY instead of waiting for the next tick.

A process that made work due (`signals.work_available`: enrollments, events, queued deliveries, a journey
(re)activated) NOTIFYs once its transaction has committed; every engine process LISTENs on a connection of its
own, in a thread, and wakes its jobs. A notification is only a hint (the database stays the truth): one that
is lost costs at most one tick. On SQLite there is one engine process and nothing here does anything.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import text

from engine import signals
from engine.db import Database
from engine.engine import Engine
from engine.runtime.runner import WORKER

log = logging.getLogger(__name__)

CHANNEL = "journeys_work"
# How often the listening thread looks up from waiting to see whether it should stop.
POLL_SECONDS = 0.5
RECONNECT_SECONDS = 1.0


def announce(engine: Engine) -> None:
    """NOTIFY the other engine processes that work is due now (no-op on SQLite).

    Called after the sender's commit (work_available is sent outside any transaction), so a listener that
    wakes finds the rows. The payload names this process, whose own jobs were woken directly."""
    database = engine.db
    if database.is_sqlite:
        return
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT pg_notify(:channel, :sender)"),
                               {"channel": CHANNEL, "sender": WORKER})
            connection.commit()
    except Exception:  # the sender's work is committed; a lost wake-up only waits for the next tick
        log.warning("could not notify the other engine processes", exc_info=True)


def wake_on_activation(engine: Engine, new: str, **_: Any) -> None:
    """A journey activated or resumed has due work (waiting enrollments, a backfill): wake the jobs."""
    if new == "active":
        signals.work_available.send(engine=engine)


class Listener:
    """LISTENs on its own autocommit connection in a daemon thread and calls `on_notify()` for every
    notification from another process (and once after each (re)connect, for any it may have missed)."""

    def __init__(self, database: Database, on_notify: Callable[[], Any], channel: str = CHANNEL,
                 own_sender: str = WORKER) -> None:
        self._connect_args, self._connect_kwargs = _connect_args(database)
        self._on_notify = on_notify
        self._channel = channel
        self._own_sender = own_sender
        self._stopping = threading.Event()
        self.listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="journeys-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=POLL_SECONDS * 4)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._listen()
            except Exception:
                log.warning("listening for engine wake-ups failed; reconnecting", exc_info=True)
            self.listening.clear()
            self._stopping.wait(RECONNECT_SECONDS)

    def _listen(self) -> None:
        with psycopg.connect(*self._connect_args, **self._connect_kwargs, autocommit=True) as connection:
            connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
            self.listening.set()
            self._on_notify()
            while not self._stopping.is_set():
                for notification in connection.notifies(timeout=POLL_SECONDS):
                    if notification.payload != self._own_sender:
                        self._on_notify()
                    if self._stopping.is_set():
                        break


def _connect_args(database: Database) -> tuple[list[Any], dict[str, Any]]:
    """The psycopg connection arguments of the engine's own URL (host, database, user, password, ...)."""
    engine = database.engine
    args, kwargs = engine.dialect.create_connect_args(engine.url)
    return list(args), dict(kwargs)
