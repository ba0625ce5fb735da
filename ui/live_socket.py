"""The pages' live channel (NiceGUI's socket.io under /_nicegui_ws/) answers only the browser session its page
was built for.

NiceGUI ties a socket to a page by the `client_id` in the socket's query, and hands an event to whichever
client the event names, from any connected socket. A page's client keeps the request that built it, and so
that browser's session id (Starlette's signed session cookie, decoded and verified by the SessionMiddleware
that `ui.run(storage_secret=...)` puts around this check). So every socket.io request, polling or
websocket, must name a live page of its own session. The one exception is an implicit handshake naming a
page that is gone (as after a restart): NiceGUI refuses that socket at connect, and the browser reloads.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from nicegui import Client
from starlette.types import ASGIApp, Receive, Scope, Send

from ui.api.errors import envelope

SOCKET_PREFIX = "/_nicegui_ws/"


def admits(scope: Scope) -> bool:
    """Whether this socket.io request may reach NiceGUI: it names a live page of its session, or a page
    that is gone with an implicit handshake (which NiceGUI itself refuses)."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    client_id = query.get("client_id", [""])[0]
    client = Client.instances.get(client_id)
    if client is None:
        return bool(client_id) and query.get("implicit_handshake", [""])[0] == "true"
    session = scope.get("session") or {}
    return bool(session.get("id")) and session.get("id") == _page_session(client)


def _page_session(client: Client) -> str | None:
    try:
        return client.request.session.get("id")
    except (RuntimeError, AssertionError):  # a client built without a request, or without sessions
        return None


class LiveSocketMiddleware:
    """Refuses the socket.io requests `admits` does not: 403 in the error envelope, websocket close 1008."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not scope["path"].startswith(SOCKET_PREFIX) \
                or admits(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        answer = envelope(403, "not_this_session", "this live channel belongs to another browser session; "
                          "reload the page")
        await answer(scope, receive, send)
