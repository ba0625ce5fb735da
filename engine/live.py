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


class LiveBus:
    """One engine's deltas: subscribers of `bus` receive one dict per publish, `{"kind": ..., ...}`."""

    def __init__(self) -> None:
        self.bus: Event = Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._recent: deque[dict[str, Any]] = deque(maxlen=200)
        self._lock = threading.Lock()

    def attach_loop(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Remember the UI loop (called once at startup); None detaches."""
        self._loop = loop

    def publish(self, delta: dict[str, Any]) -> None:
        with self._lock:
            self._recent.append(delta)
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.bus.emit, delta)

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        """The latest published deltas, newest first."""
        with self._lock:
            items = list(self._recent)
        return items[::-1][:limit]
