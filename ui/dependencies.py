"""How routes and pages get the engine: FastAPI's `Depends`, from the app the engine was mounted on."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from engine.engine import Engine


def engine_of(request: Request) -> Engine:
    """The engine `ui.api.mount` put on the app that is answering `request`."""
    return request.app.state.engine


EngineDep = Annotated[Engine, Depends(engine_of)]
