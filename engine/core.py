"""The process-wide container: settings, database and clock. Engine functions read it via `core()`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from engine import schema
from engine.clock import Clock, SystemClock
from engine.db import Database
from engine.settings import Settings


@dataclass
class Core:
    settings: Settings
    db: Database
    clock: Clock

    def now(self) -> datetime:
        return self.clock.now()


_core: Core | None = None


def init(settings: Settings, clock: Clock | None = None) -> Core:
    """Upgrade the database to the code's schema (creating it when empty) and make it the current core.

    Raises schema.SchemaTooNewError when a newer release has already upgraded the database.
    """
    global _core
    if _core is not None:
        _core.db.dispose()
    url = settings.resolved_database_url()
    schema.upgrade(url)
    db = Database(url, settings.write_wait_seconds)
    _core = Core(settings=settings, db=db, clock=clock or SystemClock())
    return _core


def core() -> Core:
    if _core is None:
        raise RuntimeError("engine.core.init() has not been called")
    return _core


@contextmanager
def session() -> Iterator[Session]:
    """A committed-on-success session on the current database."""
    with core().db.session() as s:
        yield s


@contextmanager
def reader() -> Iterator[Session]:
    """A read-only session on the current database (never queues for SQLite's write lock)."""
    with core().db.reader() as s:
        yield s


def now() -> datetime:
    return core().clock.now()
