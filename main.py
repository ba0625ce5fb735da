"""Journeys: wiring only. `python main.py` starts the web app, the API and the engine."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable

from nicegui import app, ui

from engine import demo, schema, startup
from engine.access import bootstrap
from engine.engine import Engine
from engine.runtime import scheduler
from engine.runtime import worker as engine_worker
from engine.settings import Invocation, Settings, parse_cli
from ui import api, pages, request_threads, security, session


def build(settings: Settings) -> Engine:
    """Start the engine, mount the API and pages on it, and hook it onto the app's lifecycle."""
    engine = startup.start(settings)
    _announce(bootstrap.bootstrap(engine, settings))
    api.mount(app, engine)
    security.install(app, engine)
    pages.register()
    if settings.demo:
        demo.seed_if_empty(engine)
    app.on_startup(lambda: session.install_executor(engine))  # pages' engine calls act as the signed-in user
    app.on_startup(lambda: request_threads.install(settings.request_threads))
    app.on_shutdown(request_threads.uninstall)
    app.on_startup(lambda: engine.live.attach_loop(asyncio.get_running_loop()))
    app.on_shutdown(lambda: engine.live.attach_loop(None))
    if settings.scheduler:
        jobs = scheduler.Scheduler(engine, role="web")
        app.on_startup(jobs.start)
        app.on_shutdown(jobs.stop)
    app.on_shutdown(engine.close)
    return engine


def _announce(accounts: bootstrap.Bootstrap) -> None:
    """Show a generated admin password, once: only its hash is kept."""
    if accounts.generated_password:
        print(f"\n  Journeys: created the admin {accounts.admin_email} with the password "
              f"{accounts.generated_password}\n  (shown this once; set JOURNEYS_ADMIN_EMAIL and "
              "JOURNEYS_ADMIN_PASSWORD to choose your own)\n", flush=True)


def serve(invocation: Invocation) -> int:
    """Start the web app, the API and the engine (the default command)."""
    settings = invocation.settings
    build(settings)
    ui.run(
        host=settings.host,
        port=settings.port,
        title="Journeys",
        reload=False,
        show=False,
        favicon="🧭",
        fastapi_docs=True,  # NiceGUI turns FastAPI's /docs and /openapi.json off unless asked
        storage_secret=bootstrap.storage_secret(settings),
    )
    return 0


def db(invocation: Invocation) -> int:
    """`db upgrade|current|history|revision`: the schema, for operators (and developers writing revisions)."""
    url = invocation.settings.resolved_database_url()
    if invocation.action == "upgrade":
        schema.upgrade(url)
        print(f"database at {', '.join(schema.current(url))} (head)")
    elif invocation.action == "current":
        notes = {"head": "head", "behind": "behind: `db upgrade` brings it to " + schema.head(),
                 "newer": "newer than this release"}
        revisions = schema.current(url)
        for revision in revisions:
            print(f"{revision} ({notes[schema.status(revision)]})")
        if not revisions:
            print("(none: empty, or made before migrations; `db upgrade` adopts it)")
    elif invocation.action == "history":
        print("\n".join(schema.history()))
    elif invocation.action == "revision":
        print(f"wrote {schema.new_revision(invocation.options['message'])}")
    return 0


def worker(invocation: Invocation) -> int:
    """`worker`: the engine and the dispatcher without the web app, until SIGTERM or SIGINT."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per job run otherwise
    engine_worker.run(invocation.settings)
    return 0


COMMANDS: dict[str, Callable[[Invocation], int]] = {"serve": serve, "db": db, "worker": worker}


def main() -> None:
    # Under pytest (NiceGUI's user fixture runs this file) argv belongs to pytest: read the environment only.
    invocation = Invocation("serve", Settings()) if "PYTEST_CURRENT_TEST" in os.environ else parse_cli()
    try:
        code = COMMANDS[invocation.command](invocation)
    except (schema.SchemaTooNewError, bootstrap.BootstrapError) as error:
        # Refuse to run on a schema this code does not know, rather than misreading or damaging it.
        sys.exit(f"journeys: {error}")
    if code:
        sys.exit(code)


if __name__ in {"__main__", "__mp_main__"}:
    main()
