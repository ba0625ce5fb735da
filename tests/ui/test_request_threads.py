"""Request handlers make room for the engine: at most `request_threads` at once, a quarter of that while the
engine works through a backlog."""

from __future__ import annotations

import asyncio
import threading

import anyio.to_thread

from engine import signals
from engine.engine import Engine
from ui import request_threads


async def test_request_handlers_make_room_while_the_engine_is_behind(own_engine: Engine) -> None:
    threads = request_threads.install(8)
    try:
        limiter = anyio.to_thread.current_default_thread_limiter()
        assert limiter.total_tokens == 8
        # The engine announces from its own thread; the limit changes on the event loop.
        announcer = threading.Thread(
            target=lambda: signals.engine_behind.send(behind=True, engine=own_engine))
        announcer.start()
        announcer.join()
        await asyncio.sleep(0)
        assert (limiter.total_tokens, threads.now) == (2, 2)
        signals.engine_behind.send(behind=False, engine=own_engine)
        await asyncio.sleep(0)
        assert limiter.total_tokens == 8
    finally:
        request_threads.uninstall()
    assert not any(receiver == threads.on_engine_behind for receiver, _ in signals.engine_behind.receivers())
