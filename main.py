"""Journeys: wiring only. `python main.py` starts the web app, the API and the engine."""

from __future__ import annotations

import asyncio
import os

from nicegui import app, ui

from engine import core, demo, wiring
from engine.monitoring import live
from engine.runtime import scheduler
from engine.settings import Settings, parse_cli
from ui import api, pages


def build(settings: Settings) -> None:
    """Open the database, mount the API and pages, and hook the engine onto the app's lifecycle."""
    core.init(settings)
    wiring.connect_all()
    api.mount(app)
    pages.register()
    if settings.demo:
        demo.seed_if_empty()
    app.on_startup(lambda: live.attach_loop(asyncio.get_running_loop()))
    app.on_shutdown(lambda: live.attach_loop(None))
    if settings.scheduler:
        app.on_startup(scheduler.start)
        app.on_shutdown(scheduler.stop)


def main() -> None:
    # Under pytest (NiceGUI's user fixture runs this file) argv belongs to pytest: read the environment only.
    settings = Settings() if "PYTEST_CURRENT_TEST" in os.environ else parse_cli()
    build(settings)
    ui.run(
        host=settings.host,
        port=settings.port,
        title="Journeys",
        reload=False,
        show=False,
        favicon="🧭",
        storage_secret=os.environ.get("JOURNEYS_STORAGE_SECRET", "journeys-local"),
    )


if __name__ in {"__main__", "__mp_main__"}:
    main()
