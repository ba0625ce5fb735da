"""A cap on request bodies at the edge, before any route or other middleware reads one: a declared
Content-Length over the cap answers 413 at once, unread; a body without one (chunked) is counted as it
streams and cut off with 413 once it passes the cap. API paths answer in the error envelope."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.errors import JourneysError
from ui.api.errors import BodyRefused, WatchedSend, envelope

# The cap for a request path, in bytes (read per request, so a changed setting applies at once).
Limit = Callable[[str], int]


class TooLarge(JourneysError):
    """A request body over its cap; the envelope's details give the cap (`limit`)."""

    status = 413
    code = "too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is larger than {limit} bytes", {"limit": limit})


def refusal(path: str, error: TooLarge) -> Response:
    if path.startswith("/api/"):
        return envelope(error.status, error.code, error.message, error.details)
    return PlainTextResponse(error.message, status_code=error.status)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:  # the server refuses these; if one got through, counting still holds
                return None
    return None


class BodyLimit:
    """ASGI middleware: 413 for a request body over `limit(path)` bytes."""

    def __init__(self, app: ASGIApp, limit: Limit) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.limit(scope["path"])
        declared = _declared_length(scope)
        if declared is not None and declared > cap:
            await refusal(scope["path"], TooLarge(cap))(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    raise BodyRefused(TooLarge(cap))
            return message

        sending = WatchedSend(send)
        try:
            await self.app(scope, counted, sending)
        except BodyRefused as refused:
            # A route that met the cut-off answers it itself (the envelope's handler); a middleware that
            # was still buffering the body lets it through to here.
            if sending.started or not isinstance(refused.error, TooLarge):
                raise
            await refusal(scope["path"], refused.error)(scope, receive, send)


def install(app: FastAPI, limit: Limit) -> None:
    """Add the cap as the outermost of the API's middlewares (before the NUL check buffers a body). Safe to
    call again on the same app: the first install stays, and it reads `limit` per request anyway."""
    if not any(middleware.cls is BodyLimit for middleware in app.user_middleware):
        app.add_middleware(BodyLimit, limit=limit)
