"""What tests under the simulated user share: waiting for work that lands off the event loop, and the one
element behind a marker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from nicegui.testing import User


async def eventually(check: Callable[[], Any], seconds: float = 5.0) -> None:
    """Wait until `check()` holds: saves and reads run off the event loop and land a moment later."""
    for _ in range(int(seconds / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    assert check()


def one(user: User, marker: str) -> Any:
    """The single element marked `marker` (fails when there is none or more than one)."""
    [element] = user.find(marker=marker).elements
    return element
