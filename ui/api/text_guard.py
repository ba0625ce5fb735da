"""Text with a NUL character is refused at the API's door: PostgreSQL cannot store it, and SQLite would
store what PostgreSQL refuses, so one rule for every path segment, query value and JSON string keeps both
databases alike and the answer a 422 naming the field instead of a database error."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ui.api.errors import envelope

NUL = "\x00"


def nul_field(value: Any, path: str = "") -> str | None:
    """The dotted path of the first key or string inside a JSON value holding NUL, or None."""
    if isinstance(value, str):
        return path or "body" if NUL in value else None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        here = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and NUL in key:
            return here
        found = nul_field(item, here)
        if found:
            return found
    return None


def _in_path_or_query(scope: Scope) -> str | None:
    if NUL in scope.get("path", ""):
        return "path"
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if NUL in name or NUL in value:
            return name.replace(NUL, "") or "query"
    return None


def _in_body(body: bytes) -> str | None:
    if b"\\u0000" not in body and b"\x00" not in body:
        return None
    try:
        return nul_field(json.loads(body))
    except ValueError:  # not JSON (e.g. a CSV import): the raw bytes decide
        return "body" if b"\x00" in body else None


class RefuseNulText:
    """ASGI middleware for /api/ requests: 422 when the path, a query value or a JSON string holds NUL."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        field = _in_path_or_query(scope)
        received: list[Message] = []
        if field is None:
            chunks: list[bytes] = []
            while True:
                message = await receive()
                received.append(message)
                if message["type"] != "http.request":
                    break
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            field = _in_body(b"".join(chunks))
        if field is not None:
            message = f"{field}: text may not contain the NUL character"
            response = envelope(422, "invalid", message,
                                {"field": field, "errors": [{"field": field, "message": message}]})
            await response(scope, receive, send)
            return
        pending = iter(received)

        async def replay() -> Message:
            return next(pending, None) or await receive()

        await self.app(scope, replay, send)
