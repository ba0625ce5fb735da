"""A local webhook receiver for the demo, so a webhook channel works offline: it keeps the latest
requests in memory and answers a repeated Idempotency-Key as a duplicate, as a careful receiver would."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from fastapi import APIRouter, Depends, Request

from engine.core import now
from engine.paging import envelope
from models.common import iso
from ui.api.paging import Paging, paging

router = APIRouter(tags=["sink"])

KEEP = 500
_received: deque[dict[str, Any]] = deque(maxlen=KEEP)
_lock = threading.Lock()


@router.post("/sink/webhook")
async def receive(request: Request) -> dict[str, Any]:
    try:
        body: Any = await request.json()
    except ValueError:
        body = (await request.body()).decode(errors="replace")
    key = request.headers.get("idempotency-key")
    with _lock:
        duplicate = key is not None and any(item["idempotencyKey"] == key for item in _received)
        _received.append({"receivedAt": iso(now()), "idempotencyKey": key, "duplicate": duplicate,
                          "body": body})
    return {"received": True, "duplicate": duplicate}


@router.get("/sink/webhook")
def received(page: Paging = Depends(paging)) -> dict[str, Any]:
    """What the sink received, newest first."""
    with _lock:
        items = list(_received)[::-1]
    return envelope(items[page.offset:page.offset + page.limit], len(items), page.limit, page.offset)


def clear() -> None:
    """Forget everything received (tests)."""
    with _lock:
        _received.clear()
