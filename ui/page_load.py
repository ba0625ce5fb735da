"""A page's first read from the engine, bounded by the page's response timeout.

NiceGUI cancels a page build that outlasts its `response_timeout`, and a cancelled `run.io_bound` answers
None, which a page unpacking its read turns into a traceback. `first_read` gives the read a part of that
timeout; a slower read (a busy database or thread pool) makes the page say "Still loading…" with a Retry
button instead, served in time. The late read still finishes on its worker thread and is dropped: Retry
reads afresh.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from nicegui import context, run, ui

from engine.errors import JourneysError
from ui.layout import frame

# Of the page's response timeout, the part its first read may take: the rest is for building the page.
PATIENCE = 0.6
T = TypeVar("T")
P = ParamSpec("P")


async def first_read(read: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
    """`read(*args, **kwargs)` off the event loop. None when it outlasts the page's patience (the page then
    shows "Still loading…" with Retry) or the app is stopping; what `read` raises in time is raised here."""
    pending = asyncio.ensure_future(run.io_bound(read, *args, **kwargs))
    pending.add_done_callback(_settled)
    done, _ = await asyncio.wait({pending}, timeout=context.client.page.response_timeout * PATIENCE)
    if pending in done:
        return pending.result()
    still_loading()
    return None


def _settled(read: asyncio.Future[Any]) -> None:
    # Marks a late read's error as seen: nobody awaits it any more, and Retry reads (and reports) afresh.
    if not read.cancelled():
        read.exception()


def still_loading() -> None:
    """The page as served while its read is under way: what is happening, and a way to try again."""
    with frame("Still loading"):
        ui.label("Still loading… the server is busy, and reading this page takes longer than usual.").classes(
            "text-lg").mark("still-loading")
        ui.button("Retry", icon="refresh", on_click=ui.navigate.reload).mark("still-loading-retry")


async def first_read_of_item(title: str, back: tuple[str, str], read: Callable[P, T],
                             *args: P.args, **kwargs: P.kwargs) -> T | None:
    """`first_read` for a detail page: an item the engine does not know (or may not show) is answered with
    its reason and the way back (`back`: link text and path) in the page's frame, and None."""
    try:
        return await first_read(read, *args, **kwargs)
    except JourneysError as error:
        with frame(title):
            ui.label(error.message).classes("text-lg text-red-600")
            ui.link(*back)
        return None
