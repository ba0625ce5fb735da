"""Text with a NUL character is refused at the API's door: PostgreSQL cannot store it, and SQLite would
store what PostgreSQL refuses, so one rule for every path segment, query value and JSON string keeps both
databases alike and the answer a 422 naming the field instead of a database error.

A JSON body is read whole and checked before the route sees it (an escaped \\u0000 names its field); any
other body (a CSV or JSON-lines import) streams through, each chunk checked for the NUL byte as it arrives,
so a route reading it as a stream keeps its memory bounded. JSON lines are not one JSON document: their
escaped NULs are left to the importer (`models.common.json_problem`)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.errors import Invalid
from models.common import NUL
from ui.api.errors import BodyRefused, envelope


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
    except ValueError:  # sent as JSON but not JSON: the raw bytes decide
        return "body" if b"\x00" in body else None


def _refusal(field: str) -> Invalid:
    message = f"{field}: text may not contain the NUL character"
    return Invalid(message, details={"field": field, "errors": [{"field": field, "message": message}]})


def _is_json(scope: Scope) -> bool:
    """Whether the route would parse the body as JSON: as FastAPI decides, no content type counts as JSON."""
    content_type = dict(scope.get("headers", ())).get(b"content-type")
    if content_type is None:
        return True
    media = content_type.decode("latin-1").split(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def _whole_body(receive: Receive) -> list[Message]:
    """The request's messages up to its last body chunk (or a disconnect)."""
    received: list[Message] = []
    while True:
        message = await receive()
        received.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return received


def _checked(receive: Receive) -> Receive:
    """`receive`, raising the 422 (for the route's error handler to answer) at a body chunk holding NUL."""

    async def checked() -> Message:
        message = await receive()
        if message["type"] == "http.request" and b"\x00" in message.get("body", b""):
            raise BodyRefused(_refusal("body"))
        return message

    return checked


class RefuseNulText:
    """ASGI middleware for /api/ requests: 422 when the path, a query value, a JSON string or the bytes of
    any other body hold NUL."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        field = _in_path_or_query(scope)
        if field is None and not _is_json(scope):
            await self.app(scope, _checked(receive), send)
            return
        received: list[Message] = []
        if field is None:
            received = await _whole_body(receive)
            field = _in_body(b"".join(message.get("body", b"") for message in received))
        if field is not None:
            error = _refusal(field)
            await envelope(error.status, error.code, error.message, error.details)(scope, receive, send)
            return
        pending = iter(received)

        async def replay() -> Message:
            return next(pending, None) or await receive()

        await self.app(scope, replay, send)
