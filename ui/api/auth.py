"""Who is asking, and may they: authentication and authorization for the API, its documentation and the
pages, in one ASGI middleware that runs before any route (so a request without credentials is a 401 even
when its body is malformed).

- API (`/api/...`): `Authorization: Bearer <key>` or the pages' session cookie; 401 without, 403 for a role
  below the route's (`required_role`), both in the error envelope. The request then runs as that actor
  (engine/access/roles.py), which the audit hook reads.
- Cookie-authenticated state changes must come from this origin (Origin, else Referer, naming the Host):
  a cross-site form or script cannot ride the session. Bearer keys are not sent by browsers on their own,
  so keyed requests are not affected.
- `/docs`, `/redoc`, `/openapi.json` need a session or key; pages need a session (else `/login`).
- Websocket handshakes from another origin are refused (cross-site websocket hijacking).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from engine.access import api_keys, roles, users
from engine.access.roles import Actor
from engine.engine import Engine
from ui import session
from ui.api.errors import envelope
from ui.dependencies import ACTOR

API = "/api/"
DOCS = ("/docs", "/redoc", "/openapi.json")
LOGIN = "/login"
# Needing no one: the sign-in page, NiceGUI's own assets and websocket, and the demo webhook sink (the
# engine posts to it like any remote receiver, with no credentials).
PUBLIC_PREFIXES = (LOGIN, "/_nicegui/", "/favicon.ico")
PUBLIC_ROUTES = frozenset({("POST", "/api/v1/sink/webhook")})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Routes that only need an admin whatever the method.
ADMIN_PREFIXES = ("/api/v1/api-keys", "/api/v1/users", "/api/v1/audit")
# POSTs that compute an answer and change nothing: a viewer may.
READ_ONLY_POSTS = frozenset({"/api/v1/journeys/validate", "/api/v1/journeys/{journey_id}/validate"})


def required_role(method: str, route_path: str) -> str | None:
    """The least role a route needs (None: public). Reads are for viewers, changes for editors, deletes and
    account management for admins. (Archiving goes through PUT; the engine asks an admin for it.)"""
    if (method, route_path) in PUBLIC_ROUTES:
        return None
    if route_path.startswith(ADMIN_PREFIXES):
        return "admin"
    if method in SAFE_METHODS or (method == "POST" and route_path in READ_ONLY_POSTS):
        return "viewer"
    return "admin" if method == "DELETE" else "editor"


@dataclass(frozen=True)
class RouteClass:
    """One API route as the access check sees it: its methods, path template and the pattern matching it."""

    methods: frozenset[str]
    path: str
    pattern: re.Pattern[str]


def route_classes(routers: Iterable[APIRouter], prefix: str) -> tuple[RouteClass, ...]:
    """The routes `routers` add under `prefix`, in the order the app tries them."""
    return tuple(
        RouteClass(frozenset(route.methods), prefix + route.path, compile_path(prefix + route.path)[0])
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute)
    )


def route_path(routes: Iterable[RouteClass], method: str, path: str) -> str:
    """The path template of the route a request reaches (its own path when none matches)."""
    for route in routes:
        if method in route.methods and route.pattern.match(path):
            return route.path
    return path


def same_origin(headers: dict[bytes, bytes]) -> bool:
    """Whether the request says it comes from a page of this host (Origin, else Referer)."""
    host = headers.get(b"host", b"").decode("latin-1").lower()
    source = headers.get(b"origin") or headers.get(b"referer")
    if not source or source == b"null":
        return False
    return urlsplit(source.decode("latin-1")).netloc.lower() == host


def bearer(headers: dict[bytes, bytes]) -> str | None:
    """The key of an `Authorization: Bearer <key>` header ("" for another or malformed scheme)."""
    value = headers.get(b"authorization")
    if value is None:
        return None
    scheme, _, key = value.decode("latin-1").strip().partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


async def session_actor(engine: Engine) -> Actor | None:
    """The signed-in user of this browser session, re-read from the database (role changes apply at once;
    a deleted or deactivated user, or one whose password changed since this session signed in, is signed
    out)."""
    remembered = session.signed_in()
    if remembered is None:
        return None
    current = await run_in_threadpool(users.actor_for_user, engine, remembered.id, session.version())
    if current is None:
        session.forget()
    elif current != remembered:
        session.remember(current)
    return current


class AccessMiddleware:
    def __init__(self, app: ASGIApp, routes: tuple[RouteClass, ...]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The engine of the app answering (the test harness builds the app again, on a new engine, per test).
        engine: Engine = scope["app"].state.engine
        headers = dict(scope.get("headers", []))
        if scope["type"] == "websocket" and b"origin" in headers and not same_origin(headers):
            await send({"type": "websocket.close", "code": 1008})
            return
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(PUBLIC_PREFIXES):
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        is_api = path.startswith(API)
        needed = required_role(method, route_path(self.routes, method, path)) if is_api else "viewer"
        if needed is None:
            await self.app(scope, receive, send)
            return
        key = bearer(headers)
        if key is not None:
            actor = await run_in_threadpool(api_keys.actor_for_key, engine, key) if key else None
            if actor is None:
                await self._refuse(scope, receive, send, 401, "unauthorized", "the API key is not valid")
                return
        else:
            actor = await session_actor(engine)
            if actor is None:
                await self._unauthenticated(scope, receive, send, is_api)
                return
            if method not in SAFE_METHODS and not same_origin(headers):
                await self._refuse(
                    scope,
                    receive,
                    send,
                    403,
                    "csrf",
                    "a change made with a session cookie "
                    "must come from this site's own pages (Origin or Referer)",
                )
                return
        if not roles.allows(actor.role, needed):
            await self._refuse(
                scope,
                receive,
                send,
                403,
                "forbidden",
                roles.refusal(actor.role, needed, "do this"),
                {"role": actor.role, "needed": needed},
            )
            return
        # The request's actor, for ui.dependencies.engine_of to hand its routes and pages the engine as them.
        scope.setdefault("state", {})[ACTOR] = actor
        await self.app(scope, receive, send)

    async def _unauthenticated(self, scope: Scope, receive: Receive, send: Send, is_api: bool) -> None:
        if is_api or scope["path"] == "/openapi.json" or scope["method"] not in SAFE_METHODS:
            await self._refuse(
                scope,
                receive,
                send,
                401,
                "unauthorized",
                "sign in, or send an API key as `Authorization: Bearer <key>`",
            )
            return
        target = scope["path"] + (
            f"?{scope['query_string'].decode('latin-1')}" if scope["query_string"] else ""
        )
        await RedirectResponse(f"{LOGIN}?redirect_to={quote(target, safe='')}", status_code=303)(
            scope, receive, send
        )

    @staticmethod
    async def _refuse(
        scope: Scope,
        receive: Receive,
        send: Send,
        status: int,
        code: str,
        message: str,
        details: dict[str, str] | None = None,
    ) -> None:
        answer = envelope(status, code, message, details)
        if status == 401:
            answer.headers["WWW-Authenticate"] = "Bearer"
        await answer(scope, receive, send)


def install(app: FastAPI, routers: Iterable[APIRouter], prefix: str) -> None:
    """Require credentials on `app` (the API alone, or the whole NiceGUI app), whose API is `routers`
    mounted at `prefix`."""
    if not any(middleware.cls is AccessMiddleware for middleware in app.user_middleware):
        app.add_middleware(AccessMiddleware, routes=route_classes(routers, prefix))
