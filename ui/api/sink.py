"""A local webhook receiver for the demo, so a webhook channel works offline: it keeps the latest
requests in memory and answers a repeated Idempotency-Key as a duplicate, as a careful receiver would.

Mounted in demo mode only (it needs no credentials); its bodies are capped at `sink_max_bytes` at the edge
(ui/api/__init__.py) and it keeps at most KEEP requests and KEEP_BYTES of bodies, dropping the oldest."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request

from engine.paging import envelope
from models.common import iso
from ui.api.paging import Paging, paging
from ui.dependencies import EngineDep

router = APIRouter(tags=["sink"])

PATH = "/sink/webhook"
KEEP = 200
KEEP_BYTES = 1_048_576


@dataclass(frozen=True)
class _Received:
    received_at: str
    idempotency_key: str | None
    duplicate: bool
    body: str  # kept as sent (smaller than its parsed form); parsed when listed
    size: int  # bytes as sent

    def shown(self) -> dict[str, Any]:
        try:
            body: Any = json.loads(self.body)
        except ValueError:
            body = self.body
        return {"receivedAt": self.received_at, "idempotencyKey": self.idempotency_key,
                "duplicate": self.duplicate, "body": body}


_received: deque[_Received] = deque()
_kept = 0  # the bytes of the bodies in _received
_lock = threading.Lock()


@router.post(PATH)
async def receive(engine: EngineDep, request: Request) -> dict[str, Any]:
    body = await request.body()
    key = request.headers.get("idempotency-key")
    global _kept
    with _lock:
        duplicate = key is not None and any(item.idempotency_key == key for item in _received)
        received = _Received(iso(engine.now()), key, duplicate, body.decode(errors="replace"), len(body))
        _received.append(received)
        _kept += len(body)
        while len(_received) > KEEP or _kept > KEEP_BYTES:
            _kept -= _received.popleft().size
    return {"received": True, "duplicate": duplicate}


@router.get(PATH)
def received(page: Paging = Depends(paging)) -> dict[str, Any]:
    """What the sink received, newest first."""
    with _lock:
        items = list(_received)[::-1]
    shown = [item.shown() for item in items[page.offset:page.offset + page.limit]]
    return envelope(shown, len(items), page.limit, page.offset)


def kept_bytes() -> int:
    """How many bytes of bodies the sink holds."""
    with _lock:
        return _kept


def clear() -> None:
    """Forget everything received (tests)."""
    global _kept
    with _lock:
        _received.clear()
        _kept = 0
