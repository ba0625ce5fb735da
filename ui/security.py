"""Every request's Host header is checked and every answer carries security headers.

The Host check stops DNS rebinding: a web page on an attacker's name that re-resolves to this machine still
sends its own name as Host, which is not on the list. Allowed are `JOURNEYS_ALLOWED_HOSTS`
(comma-separated names, "*" for any) or, when empty, the bind host; the loopback names always, because no
rebinding page can send them and the app calls itself there (the demo webhook sink).

`install` also puts the pages' live channel behind their session (ui/live_socket.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.engine import Engine
from engine.settings import Settings
from ui.api.errors import envelope
from ui.live_socket import LiveSocketMiddleware

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
# NiceGUI's user-simulation test client talks to the app in-process and always sends this Host.
SIMULATION_HOST = "test"

# NiceGUI's pages run inline scripts and compile Vue templates in the browser ('unsafe-eval'), and Quasar
# sets inline styles; everything else they load is same-origin (same-origin websockets included in 'self').
PAGE_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# FastAPI's /docs and /redoc pages load Swagger UI and ReDoc from their CDNs.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "font-src 'self' https://fonts.gstatic.com; worker-src 'self' blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


def allowed_hosts(settings: Settings) -> frozenset[str]:
    """The Host names answered ("*" among them: any)."""
    configured = [host for host in (_normal(part) for part in settings.allowed_hosts.split(",")) if host]
    hosts = {*(configured or [_normal(settings.host)]), *LOOPBACK_HOSTS}
    if os.environ.get("NICEGUI_USER_SIMULATION") == "true":
        hosts.add(SIMULATION_HOST)
    return frozenset(hosts)


def host_name(header: str) -> str:
    """The name in a Host header, without port or IPv6 brackets, lower case."""
    header = header.strip()
    if header.startswith("["):
        return _normal(header[1:].partition("]")[0])
    return _normal(header.partition(":")[0])


def _normal(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


class SecurityMiddleware:
    """Answers 400 (error envelope) to a Host not allowed, refuses such websockets, and adds the security
    headers to every HTTP answer that does not set its own."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = frozenset(hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        secured = _with_headers(send, scope.get("path", ""))
        if "*" not in self.hosts and host_name(host) not in self.hosts:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            answer = envelope(400, "bad_host", f"Host {host!r} is not served here; add it to "
                              "JOURNEYS_ALLOWED_HOSTS", {"host": host})
            await answer(scope, receive, secured)
            return
        await self.app(scope, receive, secured if scope["type"] == "http" else send)


def _with_headers(send: Send, path: str) -> Send:
    policy = DOCS_POLICY if path.startswith(DOCS_PATHS) else PAGE_POLICY
    extra = (*HEADERS, (b"content-security-policy", policy.encode()))

    async def secured(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            present = {name.lower() for name, _ in headers}
            headers += [(name, value) for name, value in extra if name not in present]
            message = {**message, "headers": headers}
        await send(message)

    return secured


def install(app: FastAPI, engine: Engine) -> None:
    """Check Host headers and add security headers on every request `app` serves, and let only a page's
    own session reach it through its live channel."""
    app.add_middleware(LiveSocketMiddleware)  # added first, so it runs inside the Host check
    app.add_middleware(SecurityMiddleware, hosts=allowed_hosts(engine.settings))
