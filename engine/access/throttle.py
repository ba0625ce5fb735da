"""Sign-in throttling, per account and per client address, kept in the database so every web process on
one database shares it (table `login_failure`).

Each key may fail `login_free_failures` times; from then on every further attempt must wait, a delay that
doubles with each failure from `login_delay_seconds` up to `login_max_delay_seconds`. An attempt is counted
as a failure *before* its password is checked (`reserve`, one short transaction holding the keys' rows), so
attempts racing each other cannot all slip into the free ones; a success takes its count back (`succeeded`).
A key quiet for a day starts afresh.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlmodel import Session

from engine.access import audit
from engine.engine import Engine
from engine.errors import JourneysError
from engine.upsert import add_counts
from models.access import LoginFailure

FORGET_AFTER = timedelta(days=1)
# Keys hold at most this much of an e-mail or address: nothing longer signs in, and the column is bounded.
KEY_CHARS = 300
# 2**63 seconds outlasts any cap; beyond it the float would overflow.
MAX_DOUBLINGS = 63


class Throttled(JourneysError):
    """Too many failed sign-ins: this attempt was refused without checking the password."""

    status = 429
    code = "throttled"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Too many failed sign-ins: try again in {in_words(retry_after)}", {"retryAfter": retry_after}
        )
        self.retry_after = retry_after


@dataclass(frozen=True)
class Keys:
    """What one sign-in attempt is counted against."""

    email: str
    address: str

    @property
    def account(self) -> str:
        return f"account:{self.email[:KEY_CHARS]}"

    @property
    def client(self) -> str:
        return f"address:{self.address[:KEY_CHARS]}"

    @property
    def both(self) -> tuple[str, str]:
        return tuple(sorted((self.account, self.client)))  # type: ignore[return-value]  # one lock order


def reserve(engine: Engine, keys: Keys) -> dict[str, int]:
    """Count this attempt as a failure of both keys, and return the counts; raise Throttled (counting
    nothing) while either key must wait."""
    moment = engine.now()
    with engine.session() as s:
        add_counts(s, LoginFailure, ("key",), ("failures",), [(key, 1) for key in keys.both])
        rows = _locked(s, keys.both)
        waits = [row.blocked_until - moment for row in rows if _waiting(row, moment)]
        if waits:  # raising rolls the counting back
            raise Throttled(math.ceil(max(waits).total_seconds()))
        for row in rows:
            if row.last_at is not None and moment - row.last_at > FORGET_AFTER:
                row.failures = 1
            row.last_at = moment
            row.blocked_until = _blocked_until(engine, row.failures, moment)
        return {row.key: row.failures for row in rows}


def failed(engine: Engine, keys: Keys, counts: dict[str, int]) -> None:
    """The reserved attempt was wrong: audit each key that this failure made wait for the first time."""
    first = [key for key, failures in counts.items() if failures == engine.settings.login_free_failures]
    if not first:
        return
    with engine.session() as s:
        for key in first:
            kind, _, name = key.partition(":")
            audit.record_lockout(engine, s, kind, name, f"address:{keys.address}", counts[key],
                                 math.ceil(_delay(engine, counts[key])))


def succeeded(engine: Engine, keys: Keys) -> None:
    """The reserved attempt signed in: the account starts afresh; the address takes its count back."""
    with engine.session() as s:
        s.execute(delete(LoginFailure).where(LoginFailure.key == keys.account))  # type: ignore[arg-type]
        for row in _locked(s, (keys.client,)):
            row.failures = max(row.failures - 1, 0)
            if row.failures < engine.settings.login_free_failures:
                row.blocked_until = None


def in_words(seconds: int) -> str:
    """A wait for people: seconds below two minutes, whole minutes (rounded up) beyond."""
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


def _locked(s: Session, keys: tuple[str, ...]) -> list[LoginFailure]:
    # FOR UPDATE on PostgreSQL; SQLite's writing session already holds the database's write lock.
    statement = select(LoginFailure).where(LoginFailure.key.in_(keys)).with_for_update()  # type: ignore[attr-defined]
    return list(s.execute(statement).scalars())


def _waiting(row: LoginFailure, moment: datetime) -> bool:
    return row.blocked_until is not None and row.blocked_until > moment


def _blocked_until(engine: Engine, failures: int, moment: datetime) -> datetime | None:
    if failures < engine.settings.login_free_failures:
        return None
    return moment + timedelta(seconds=_delay(engine, failures))


def _delay(engine: Engine, failures: int) -> float:
    """The wait after the `failures`-th failure (at least the free number of them)."""
    settings = engine.settings
    doublings = min(failures - settings.login_free_failures, MAX_DOUBLINGS)
    return min(settings.login_delay_seconds * 2**doublings, settings.login_max_delay_seconds)
