"""Every error answers `{"error": {"code", "message", "details"}}`; bad input is never a 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.db import is_busy
from engine.errors import Busy, JourneysError
from models.journey import STEP_TYPES

log = logging.getLogger(__name__)

# Tags of the API's own tagged unions (e.g. one event or a batch), left out of field names like step types.
UNION_TAGS = ("single", "batch")


def envelope(status: int, code: str, message: str, details: Any = None,
             headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content={"error": {"code": code, "message": message, "details": {} if details is None else details}},
        headers=headers,
    )


def _field_path(loc: tuple[Any, ...]) -> str:
    # Drop the "body" prefix and pydantic's union tags (e.g. steps.0.wait.config -> steps.0.config).
    tags = {*STEP_TYPES, *UNION_TAGS}
    parts = [str(part) for part in loc if part not in ("body", "query", "path")]
    return ".".join(part for part in parts if part not in tags) or "body"


def _error_field(error: dict[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        return "body"  # its loc holds the character position, not a field
    field = _field_path(tuple(error.get("loc", ())))
    inner = (error.get("ctx") or {}).get("field")
    if inner:  # a validator on a container naming the item at fault inside it
        field = f"{field}.{inner}" if field != "body" else str(inner)
    if error.get("type") in ("union_tag_invalid", "union_tag_not_found"):
        field += ".type"  # the step's type is what is wrong, not the whole step
    return field


def _errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [{"field": _error_field(error), "message": error.get("msg", "invalid")} for error in exc.errors()]


async def _on_domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, JourneysError)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Busy) else None
    return envelope(exc.status, exc.code, exc.message, exc.details, headers=headers)


async def _on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _errors(exc)
    first = errors[0] if errors else {"field": "body", "message": "invalid"}
    message = f"{first['field']}: {first['message']}"
    return envelope(422, "invalid", message, {"field": first["field"], "errors": errors[:50]})


class BodyRefused(StarletteHTTPException):
    """A domain refusal raised while a route reads its body (the size cap, a NUL byte). FastAPI turns anything
    but an HTTPException raised during body parsing into a 400, so the refusal travels as one and is answered
    as the domain error it carries."""

    def __init__(self, error: JourneysError) -> None:
        super().__init__(error.status, error.message)
        self.error = error


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


class WatchedSend:
    """`send` that remembers whether the answer has started: after that, an error can only close the
    connection; before, the app may still answer it."""

    def __init__(self, send: Send) -> None:
        self.send, self.started = send, False

    async def __call__(self, message: Message) -> None:
        self.started = self.started or message["type"] == "http.response.start"
        await self.send(message)


class ContainErrors:
    """Answers an exception that escaped every route and handler with the app's own error answer, and
    keeps it from reaching the server. Starlette's outermost middleware sends its 500 and then re-raises
    (so servers can log it); uvicorn closes a connection whose app raised after the answer started, so the
    client's next request on that keep-alive connection was reset."""

    def __init__(self, app: ASGIApp, handlers: dict[Any, Any]) -> None:
        self.app = app
        self.handlers = handlers  # the app's live handler table: a later install is picked up

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sending = WatchedSend(send)
        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if sending.started:  # half an answer is out: only closing the connection can tell the client
                raise
            response = await self.handlers[Exception](Request(scope, receive), exc)
            await response(scope, receive, send)


def install(app: FastAPI) -> None:
    """Answer API errors with the envelope; leave page errors to whatever handled them before.

    Safe to call again on the same app (the test harness re-runs main.py): a handler installed here
    remembers the one it wrapped, so repeated installs never stack.
    """

    def original(key: Any) -> Any:
        handler = app.exception_handlers.get(key)
        return getattr(handler, "wrapped_handler", handler)

    previous = {key: original(key) for key in (404, 405, Exception)}

    def delegate(key: Any, fallback: Any) -> Any:
        async def handler(request: Request, exc: Exception) -> Any:
            if _is_api(request) or previous[key] is None:
                return await fallback(request, exc)
            return await previous[key](request, exc)

        handler.wrapped_handler = previous[key]  # type: ignore[attr-defined]
        return handler

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if isinstance(exc, BodyRefused):
            return await _on_domain_error(request, exc.error)
        if exc.status_code == 400:
            # A body the JSON parser gave up on (e.g. nested too deep) is invalid input like any other.
            return envelope(422, "invalid", f"body: {exc.detail}", {"field": "body"})
        codes = {404: "not_found", 405: "method_not_allowed", 409: "conflict", 422: "invalid"}
        headers = dict(exc.headers or {})
        methods = getattr(request.app.state, "api_methods", None)
        if exc.status_code == 405 and methods is not None:
            headers["Allow"] = ", ".join(sorted(methods(request.url.path)))
        return envelope(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail),
                        headers=headers)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        if is_busy(exc):  # SQLite's own lock wait ran out (another process): as busy as a full lane
            log.warning("answered 503: %s", exc)
            return await _on_domain_error(request, Busy("the database is busy: try again shortly"))
        log.exception("unhandled error", exc_info=exc)
        return envelope(500, "internal_error", "internal error")

    app.add_exception_handler(JourneysError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(404, delegate(404, on_http_error))
    app.add_exception_handler(405, delegate(405, on_http_error))
    app.add_exception_handler(Exception, delegate(Exception, on_unexpected))
    if not any(middleware.cls is ContainErrors for middleware in app.user_middleware):
        app.add_middleware(ContainErrors, handlers=app.exception_handlers)
