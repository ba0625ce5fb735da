"""Signing in: the password check (engine/access/users.py) behind the throttle (engine/access/throttle.py)."""

from __future__ import annotations

from dataclasses import dataclass

from engine.access import throttle, users
from engine.access.roles import Actor
from engine.engine import Engine


@dataclass(frozen=True)
class SignedIn:
    """Who signed in, and the session version their session starts at (ui/session.py)."""

    actor: Actor
    session_version: int


def sign_in(engine: Engine, email: str, password: str, address: str) -> SignedIn | None:
    """Who these credentials sign in from this client address, or None; raises throttle.Throttled, without
    checking the password, while the account or the address must wait."""
    keys = throttle.Keys(email.strip().lower(), address)
    counts = throttle.reserve(engine, keys)
    actor = users.authenticate(engine, email, password)
    if actor is None:
        throttle.failed(engine, keys, counts)
        return None
    throttle.succeeded(engine, keys)
    return SignedIn(actor, users.session_version(engine, actor.id) or 0)
