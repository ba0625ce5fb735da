"""How many API requests run their handler at once. FastAPI runs each sync route on a worker thread of
AnyIO's default pool (40 threads); under many clients those threads took the interpreter and the connection
pool from the engine's jobs, and due enrollments waited half a minute. Requests beyond the limit wait in the
event loop for a free thread, which costs nothing while they wait. While the engine works through a backlog
(signals.engine_behind) the limit drops to a quarter, so the engine's thread gets the larger share."""

from __future__ import annotations

import asyncio

import anyio.to_thread

from engine import signals
from engine.engine import Engine


class RequestThreads:
    def __init__(self, total: int, loop: asyncio.AbstractEventLoop) -> None:
        self.total, self.loop = max(1, total), loop
        self.behind_total = max(1, self.total // 4)
        self._limiter = anyio.to_thread.current_default_thread_limiter()
        self._limiter.total_tokens = self.total

    def on_engine_behind(self, behind: bool, engine: Engine) -> None:
        """From the engine's thread (the process's one engine, `engine`): the limiter belongs to the event
        loop, so change it there."""
        self.loop.call_soon_threadsafe(self._set, self.behind_total if behind else self.total)

    def _set(self, total: int) -> None:
        self._limiter.total_tokens = total

    @property
    def now(self) -> int:
        return int(self._limiter.total_tokens)


_current: RequestThreads | None = None


def install(total: int) -> RequestThreads:
    """Limit request handlers to `total` at once from now on (call from the event loop, at start-up)."""
    global _current
    uninstall()
    _current = RequestThreads(total, asyncio.get_running_loop())
    signals.engine_behind.connect(_current.on_engine_behind)
    return _current


def uninstall() -> None:
    global _current
    if _current is not None:
        signals.engine_behind.disconnect(_current.on_engine_behind)
        _current = None
