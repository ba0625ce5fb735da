"""Coalesced live refreshes: however many bus deltas arrive, a page re-reads at most once per delay."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from nicegui import Client, ui


class Coalescer:
    """`trigger()` on every delta; `refresh` runs once after `delay` seconds for all deltas meanwhile.

    Create it inside the page (it remembers the page's client); a closed tab is never refreshed, since its
    subscription may still receive a delta already in flight.
    """

    def __init__(self, refresh: Callable[[], Awaitable[None]], delay: float) -> None:
        self.refresh, self.delay = refresh, delay
        self.pending = False
        self.client_id = ui.context.client.id

    def closed(self) -> bool:
        return self.client_id not in Client.instances

    async def trigger(self) -> None:
        if self.pending or self.closed():
            return
        self.pending = True
        await asyncio.sleep(self.delay)
        self.pending = False
        if not self.closed():
            await self.refresh()
