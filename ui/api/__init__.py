"""The REST API under /api/v1: every module in this package that defines `router` is mounted."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from functools import partial

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from engine.engine import Engine
from engine.settings import Settings
from models.common import ErrorEnvelope, configure_json_limits
from ui.api import auth, body_limit, errors, sink
from ui.api.responses import ApiJSONResponse
from ui.api.text_guard import RefuseNulText

PREFIX = "/api/v1"


def routers() -> list[APIRouter]:
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            found.append(router)
    return found


def _error(description: str) -> dict[str, object]:
    return {"model": ErrorEnvelope, "description": description}


def document_errors(route: APIRoute) -> None:
    """List the error answers a route can give in OpenAPI: 422 always (bad input), 404 for a route about
    one resource (an id in the path), 409 for a write (lifecycle, duplicate id, still in use)."""
    route.responses.setdefault(422, _error("invalid input; `details.field` names the field at fault"))
    if route.param_convertors or route.methods & {"POST", "PUT", "PATCH"}:
        route.responses.setdefault(404, _error("no such resource (in the path, or named in the body)"))
    if route.methods & {"POST", "PUT", "PATCH", "DELETE"}:
        route.responses.setdefault(409, _error("conflict with the resource's state"))
    if route.methods & {"POST", "PUT", "PATCH"}:
        route.responses.setdefault(413, _error("the body is over the size cap; `details.limit` gives it"))


def methods_by_path(routes: list[APIRoute]) -> Callable[[str], set[str]]:
    """The methods the API answers on a request path (what a 405 lists in `Allow`): those of every route
    of the path the router picks (the first that matches, e.g. /customers/import before /customers/{id}),
    where the router's own 405 names only that first route's methods."""

    def methods(path: str) -> set[str]:
        local = path.removeprefix(PREFIX)
        chosen = next((route.path_format for route in routes if route.path_regex.match(local)), None)
        return {method for route in routes if route.path_format == chosen for method in route.methods}

    return methods


def body_cap(settings: Settings, path: str) -> int:
    """The request-body cap for `path`: the demo sink's own small one, else `max_body_bytes`."""
    return settings.sink_max_bytes if path == PREFIX + sink.PATH else settings.max_body_bytes


def mount(app: FastAPI, engine: Engine) -> None:
    """Add the error envelope, the access check (ui/api/auth.py: credentials for the API, its docs and any
    pages on `app`), the request-body cap (ui/api/body_limit.py) and every API router to `app` (the demo
    webhook sink in demo mode only), with the free-form JSON limits from the engine's settings; routes reach
    `engine` through `app.state` (ui/dependencies.py).

    `include_router` wraps the app's lifespan in the router's (none of ours has one); keeping the app's own
    means building the app again on the same instance (the test harness re-runs main.py) never stacks them.
    """
    app.state.engine = engine
    settings = engine.settings
    configure_json_limits(settings.json_max_bytes, settings.json_max_depth)
    errors.install(app)
    if not any(middleware.cls is RefuseNulText for middleware in app.user_middleware):
        app.add_middleware(RefuseNulText)
    found = [router for router in routers() if settings.demo or router is not sink.router]
    auth.install(app, found, PREFIX)
    body_limit.install(app, partial(body_cap, settings))
    lifespan = app.router.lifespan_context
    api_routes: list[APIRoute] = []
    for router in found:
        for route in router.routes:
            if isinstance(route, APIRoute):
                document_errors(route)
                api_routes.append(route)
        app.include_router(router, prefix=PREFIX, default_response_class=ApiJSONResponse)
    app.state.api_methods = methods_by_path(api_routes)
    app.router.lifespan_context = lifespan
