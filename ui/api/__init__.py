"""The REST API under /api/v1: every module in this package that defines `router` is mounted."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter, FastAPI

from engine.core import core
from models.common import configure_json_limits
from ui.api import auth, errors
from ui.api.responses import ApiJSONResponse

PREFIX = "/api/v1"


def routers() -> list[APIRouter]:
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            found.append(router)
    return found


def mount(app: FastAPI) -> None:
    """Add the error envelope, the access check (ui/api/auth.py: credentials for the API, its docs and any
    pages on `app`) and every API router to `app`, with the free-form JSON limits from the settings (the
    engine's core must be initialised).

    `include_router` wraps the app's lifespan in the router's (none of ours has one); keeping the app's own
    means building the app again on the same instance (the test harness re-runs main.py) never stacks them.
    """
    settings = core().settings
    configure_json_limits(settings.json_max_bytes, settings.json_max_depth)
    errors.install(app)
    found = routers()
    auth.install(app, found, PREFIX)
    lifespan = app.router.lifespan_context
    for router in found:
        app.include_router(router, prefix=PREFIX, default_response_class=ApiJSONResponse)
    app.router.lifespan_context = lifespan
