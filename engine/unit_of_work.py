"""A unit of work: one transaction on the engine's database and everything that belongs to it.

It owns the session, what caused the work (`origin`: the enrollment whose step is running), what the work
read once and shares (`loaded`), and the effects that run once the transaction has committed (live
publishes, wake-ups of the jobs, the follow-up work of signal receivers), in the order they were added.
Nothing of this rides on the session itself: whoever needs it is handed the unit of work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

if TYPE_CHECKING:
    from engine.access.roles import Actor
    from engine.engine import Engine

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Origin:
    """The enrollment whose step caused a change (an update step changing a segment, say)."""

    journey_id: str
    enrollment_id: str
    customer_id: str

    def to_json(self) -> dict[str, str]:
        return {"journey_id": self.journey_id, "enrollment_id": self.enrollment_id,
                "customer_id": self.customer_id}


@dataclass
class PolicySends:
    """The counted deliveries of a batch's customers since `since`, read once for every contact-policy check
    in the batch (engine/decisioning/contact_policy.py keeps it current as deliveries are written)."""

    since: datetime
    sends: dict[str, list[tuple[str | None, datetime]]]


@dataclass
class Loaded:
    """What a unit of work read once and its steps share."""

    # Customers whose deliveries the first contact-policy check reads all at once, and that read.
    policy_customers: frozenset[str] = frozenset()
    policy_sends: PolicySends | None = None
    # Decision flow id -> its prepared catalogue (engine/decisioning/decisions.py).
    catalogues: dict[str, Any] = field(default_factory=dict)
    # Branch condition scopes shared by the batch's enrollments (engine/journeys/steps/branch.py).
    scopes: dict[Any, Any] = field(default_factory=dict)

    def forget_writes(self) -> None:
        """A rolled-back savepoint may have taken rows this cache counts: read them again when next needed."""
        self.policy_sends = None


class UnitOfWork:
    """One transaction (`session`) of `engine`, with its origin, what it loaded and its after-commit effects.
    Built by `Engine.unit_of_work()` (which commits it and then runs the effects) or, for work that is rolled
    back (a test run), around a session of the caller's."""

    def __init__(self, engine: Engine, session: Session, origin: Origin | None = None) -> None:
        self.engine = engine
        self.session = session
        self.origin = origin
        self.loaded = Loaded()
        self._effects: list[Callable[[], Any]] = []

    @property
    def actor(self) -> Actor | None:
        """Who this unit of work's changes are made by (None: the engine's own work)."""
        return self.engine.actor

    def after_commit(self, effect: Callable[[], Any]) -> None:
        """Run `effect` (with no transaction open) once this unit of work has committed; dropped if it rolls
        back. Effects run in the order they were added."""
        self._effects.append(effect)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A savepoint around one step's writes: rolled back alone when it fails, and then what this unit of
        work loaded that the step may have added to (its recorded sends) is read again when next needed."""
        try:
            with self.session.begin_nested():
                yield
        except BaseException:
            self.loaded.forget_writes()
            raise

    @contextmanager
    def caused_by(self, origin: Origin) -> Iterator[None]:
        """While the block runs, changes made in this unit of work are caused by `origin`."""
        earlier, self.origin = self.origin, origin
        try:
            yield
        finally:
            self.origin = earlier

    def run_effects(self) -> None:
        """Called once the transaction committed: each effect runs even when an earlier one failed (the
        work is committed; a failed follow-up must not undo its answer)."""
        effects, self._effects = self._effects, []
        for effect in effects:
            try:
                effect()
            except Exception:
                log.exception("after-commit work failed")
