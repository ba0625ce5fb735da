"""How a process gets its engine: the one bootstrap the web app (main.py) and a `worker` share."""

from __future__ import annotations

from engine import schema, wiring
from engine.clock import Clock
from engine.engine import Engine
from engine.settings import Settings


def start(settings: Settings, clock: Clock | None = None) -> Engine:
    """Upgrade the database to the code's schema (creating it when empty), open the engine on it and connect
    the engine's signal receivers.

    Raises schema.SchemaTooNewError when a newer release has already upgraded the database.
    """
    schema.upgrade(settings.resolved_database_url())
    engine = Engine.open(settings, clock)
    wiring.connect_all(engine)
    return engine
