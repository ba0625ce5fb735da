"""How routes and pages get the engine: FastAPI's `Depends`, from the app the engine was mounted on, acting
as the request's caller (the access middleware, ui/api/auth.py, names them in the request's state)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from engine.access.roles import Actor
from engine.engine import Engine

# Request state key: the Actor the request's credentials stand for (absent on public paths).
ACTOR = "actor"


def engine_of(request: Request) -> Engine:
    """The engine `ui.api.mount` put on the app answering `request`, as the request's caller."""
    engine: Engine = request.app.state.engine
    actor: Actor | None = getattr(request.state, ACTOR, None)
    return engine if actor is None else engine.as_actor(actor)


EngineDep = Annotated[Engine, Depends(engine_of)]
