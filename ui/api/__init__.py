"""The REST API under /api/v1: every module in this package that defines `router` is mounted."""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter, FastAPI

from ui.api import errors

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
    """Add the error envelope and every API router to `app`."""
    errors.install(app)
    for router in routers():
        app.include_router(router, prefix=PREFIX)
