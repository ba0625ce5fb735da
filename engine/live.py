"""The live bus: the engine publishes small deltas after each batch; pages subscribe instead of polling.

Publishing is safe from any thread: the delta is marshalled onto the UI event loop with
`call_soon_threadsafe`. Without a loop (a script, a unit test) publishing only feeds the recent-activity
ring that the engine status reads.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from typing import Any

from nicegui import Event

# Subscribers receive one dict per publish: {"kind": ..., ...}.
bus: Event = Event()
_loop: asyncio.AbstractEventLoop | None = None
_recent: deque[dict[str, Any]] = deque(maxlen=200)
_lock = threading.Lock()


def attach_loop(loop: asyncio.AbstractEventLoop | None) -> None:
    """Remember the UI loop (called once at startup); None detaches."""
    global _loop
    _loop = loop


def publish(delta: dict[str, Any]) -> None:
    with _lock:
        _recent.append(delta)
    loop = _loop
    if loop is not None and not loop.is_closed():
        loop.call_soon_threadsafe(bus.emit, delta)


def recent(limit: int = 50) -> list[dict[str, Any]]:
    """The latest published deltas, newest first."""
    with _lock:
        items = list(_recent)
    return items[::-1][:limit]


def reset() -> None:
    """Forget recent activity (tests)."""
    with _lock:
        _recent.clear()
