"""The engine: settings, database, clock and live bus, built once by the process (main.py, a worker, a test)
and handed to every function that needs one of them. There is no process-wide instance.

An engine may act for someone: `as_actor(actor)` is the same engine (same database, clock and bus) whose
sessions and units of work make their changes as that actor, policed and audited as theirs
(engine/access/audit.py). The engine the process built acts for no one: its changes are the engine's own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlmodel import Session

from engine.access.roles import Actor
from engine.clock import Clock, SystemClock
from engine.db import Database
from engine.live import LiveBus
from engine.settings import Settings
from engine.unit_of_work import UnitOfWork


@dataclass(eq=False)  # an engine is equal to itself only
class Engine:
    settings: Settings
    db: Database
    clock: Clock
    live: LiveBus = field(default_factory=LiveBus)
    # Who the changes made through this engine are made by (None: the engine's own work, not audited).
    actor: Actor | None = None

    @classmethod
    def open(cls, settings: Settings, clock: Clock | None = None) -> Engine:
        """An engine on the settings' database as it is (migrations are engine.startup's job)."""
        url = settings.resolved_database_url()
        database = Database(url, settings.write_wait_seconds)
        return cls(settings=settings, db=database, clock=clock or SystemClock())

    def now(self) -> datetime:
        return self.clock.now()

    def as_actor(self, actor: Actor | None) -> Engine:
        """This engine, making its changes as `actor`."""
        return replace(self, actor=actor)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A committed-on-success session on the engine's database."""
        with self.db.session(self.actor) as s:
            yield s

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        """A writing transaction with its after-commit effects: committed on success, then the effects run
        (with no transaction open); on error rolled back and the effects dropped."""
        with self.db.session(self.actor) as s:
            work = UnitOfWork(self, s)
            yield work
        work.run_effects()

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A read-only session (never queues for SQLite's write lock)."""
        with self.db.reader() as s:
            yield s

    def close(self) -> None:
        self.db.dispose()
