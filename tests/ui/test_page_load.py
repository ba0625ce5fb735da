"""A page whose first read from the engine outlasts its patience (a busy database or thread pool) is served in
time with a "Still loading…" notice and a Retry button, never a traceback; Retry opens it once the engine
answers again."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from nicegui.testing import User

from engine.journeys import lifecycle
from models.journey import JourneyCreate

# Short enough for a quick test; the page's first read gets a part of it before the notice shows.
RESPONSE_SECONDS = 0.6


@contextmanager
def stalled(monkeypatch: pytest.MonkeyPatch, read: Callable[..., Any]) -> Iterator[None]:
    """Make `lifecycle.<read>` wait until the block ends (and then answer as usual)."""
    release = threading.Event()

    def waiting(*args: Any, **kwargs: Any) -> Any:
        release.wait(timeout=30)
        return read(*args, **kwargs)

    monkeypatch.setattr(lifecycle, read.__name__, waiting)
    try:
        yield
    finally:
        release.set()
        monkeypatch.setattr(lifecycle, read.__name__, read)


@contextmanager
def short_response_timeout(user: User) -> Iterator[None]:
    """Shorten the response timeout of the page `user` has open, for the block."""
    page = user.client.page
    usual, page.response_timeout = page.response_timeout, RESPONSE_SECONDS
    try:
        yield
    finally:
        page.response_timeout = usual


@pytest.mark.parametrize("suffix, ready", [("", "canvas"), ("/monitor", "monitor-canvas")])
async def test_a_slow_first_read_shows_still_loading_with_retry(
    user: User, monkeypatch: pytest.MonkeyPatch, suffix: str, ready: str
) -> None:
    path = f"/journeys/{lifecycle.create_journey(JourneyCreate(name='Slow')).id}{suffix}"
    await user.open(path)
    with short_response_timeout(user), stalled(monkeypatch, lifecycle.get_journey):
        await user.open(path)
        await user.should_see("Still loading")
        await user.should_see(marker="still-loading-retry")
        await user.should_not_see(marker=ready)
    user.find(marker="still-loading-retry").click()
    await user.should_see(marker=ready, retries=200)
