"""The signed-in person of a browser session, kept in NiceGUI's per-browser user storage, and the hand-off
of that person to the engine when a page calls it on a worker thread.

`run.io_bound` runs its work on NiceGUI's thread pool with `run_in_executor`, which does not carry context
variables over; `install_executor` swaps in a pool that does, and that binds the page's signed-in user as
the engine's actor (engine/access/roles.py), so what a page does is audited and policed like the API.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from nicegui import app, run

from engine.access import roles
from engine.access.roles import Actor

KEYS = ("user_id", "email", "role")


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


def remember(actor: Actor) -> None:
    """Sign this browser in as `actor` (a user)."""
    storage = _storage()
    if storage is not None:
        storage.update({"user_id": actor.id, "email": actor.name, "role": actor.role})


def forget() -> None:
    """Sign this browser out."""
    storage = _storage()
    if storage is not None:
        for key in KEYS:
            storage.pop(key, None)


def has_storage() -> bool:
    return _storage() is not None


class ActingThreadPool(ThreadPoolExecutor):
    """A thread pool whose work runs in a copy of the submitter's context, acting as the submitter's actor
    (the context's, or else the signed-in user of the page whose handler submitted it)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        context = contextvars.copy_context()
        actor = roles.current() or signed_in()
        context.run(roles.bind, actor)
        return super().submit(context.run, fn, *args, **kwargs)


def install_executor() -> None:
    """Make `run.io_bound` act as the page's user (at every start: NiceGUI's test harness resets the pool)."""
    if not isinstance(run.thread_pool, ActingThreadPool):
        run.thread_pool.shutdown(wait=False)
        run.thread_pool = ActingThreadPool()
