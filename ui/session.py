"""The signed-in person of a browser session, kept in NiceGUI's per-browser user storage, and the hand-off
of that person to the engine when a page calls it on a worker thread.

A page gets the engine as its signed-in user (ui/dependencies.py), so what it does is audited and policed
like the API; `install_executor` swaps in a pool for `run.io_bound` that re-checks that user before each call.

A session also remembers the user's `session_version` at sign-in: a password change or a deactivation bumps
it, and a session whose version is no longer the user's has ended (ui/api/auth.py signs it out on its next
request; an open page's engine calls are refused with SessionEnded).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from nicegui import app, run
from starlette.concurrency import run_in_threadpool

from engine.access import users
from engine.access.roles import Actor
from engine.engine import Engine
from engine.errors import JourneysError

KEYS = ("user_id", "email", "role", "version")


class SessionEnded(JourneysError):
    status = 401
    code = "session_ended"


def _storage() -> Any:
    try:
        return app.storage.user
    except (RuntimeError, AssertionError, KeyError):  # not in a UI context, or no storage secret
        return None


def signed_in() -> Actor | None:
    """The person signed in on this browser, as last checked (each page load re-checks the database)."""
    storage = _storage()
    if storage is None or not storage.get("user_id"):
        return None
    return Actor(
        kind="user", id=storage["user_id"], name=storage.get("email", ""), role=storage.get("role", "")
    )


def version() -> int:
    """The session version this browser signed in at (0 for sessions older than versions)."""
    storage = _storage()
    return int(storage.get("version", 0)) if storage is not None else 0


def remember(actor: Actor, at_version: int | None = None) -> None:
    """Sign this browser in as `actor` (a user) at session version `at_version` (None: keep its own)."""
    storage = _storage()
    if storage is not None:
        storage.update({"user_id": actor.id, "email": actor.name, "role": actor.role})
        if at_version is not None:
            storage["version"] = at_version


async def keep_after_change(engine: Engine, user_id: str) -> None:
    """After a change to user `user_id` (a new password), keep this browser signed in when it is that user:
    the change ends the user's other sessions, not the one that made it. (Call it on the event loop: the
    storage is written there.)"""
    actor = signed_in()
    if actor is None or actor.id != user_id:
        return
    current = await run_in_threadpool(users.session_version, engine, user_id)
    if current is not None:
        remember(actor, current)


def forget() -> None:
    """Sign this browser out."""
    storage = _storage()
    if storage is not None:
        for key in KEYS:
            storage.pop(key, None)


def has_storage() -> bool:
    return _storage() is not None


class CheckedThreadPool(ThreadPoolExecutor):
    """The pool `run.io_bound` runs a page's engine calls on. A page hands its calls the engine as its
    signed-in user as loaded with the page (ui/dependencies.py); a page stays open without requests, so each
    call first re-reads that user and is refused (SessionEnded) when the session has ended or the role has
    changed since: a page never acts with a role its user no longer has."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        page_user = signed_in()
        if page_user is None:
            return super().submit(fn, *args, **kwargs)
        return super().submit(_still_signed_in, self.engine, page_user, version(), fn, *args, **kwargs)


def _still_signed_in(
    engine: Engine, remembered: Actor, at_version: int, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
) -> Any:
    """Run `fn` (on the worker thread) once the page's user is re-read from the database as it was."""
    actor = users.actor_for_user(engine, remembered.id, at_version)
    if actor is None:
        raise SessionEnded("Your session has ended (new password, or account deactivated): sign in again")
    if actor.role != remembered.role:
        raise SessionEnded(f"Your role is {actor.role} now: reload the page to go on with it")
    return fn(*args, **kwargs)


def install_executor(engine: Engine) -> None:
    """Make `run.io_bound` check the page's user before each call (at every start: NiceGUI's test harness
    resets the pool)."""
    pool = run.thread_pool
    if not isinstance(pool, CheckedThreadPool) or pool.engine is not engine:
        pool.shutdown(wait=False)
        run.thread_pool = CheckedThreadPool(engine)
