"""Shared fixtures: a fresh database per test (SQLite file, or PostgreSQL when configured), a virtual clock,
and an HTTP client on the API alone.

Set JOURNEYS_TEST_DATABASE_URL (e.g. postgresql+psycopg://journeys:journeys@127.0.0.1/journeys_test) to run
the engine and API tests against PostgreSQL; every test then starts from empty tables.

Test databases are made by create_all and stamped at the migrations' head (quicker than running the chain
per test); tests/engine/test_schema.py pins that this equals what the migrations build.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from engine import schema, wiring
from engine.access import bootstrap
from engine.clock import VirtualClock
from engine.engine import Engine
from engine.settings import Settings

POSTGRES_URL = os.environ.get("JOURNEYS_TEST_DATABASE_URL", "")
# The accounts every test starts with (bootstrap settings): an admin to sign in as, and an admin API key.
ADMIN_EMAIL = "admin@example.test"
ADMIN_PASSWORD = "correct horse battery staple"
ADMIN_TOKEN = "test-admin-token-2f9c61d0a4"


@pytest.fixture(scope="session")
def empty_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database at the schema head, made once and copied for every test."""
    path = tmp_path_factory.mktemp("template") / "journeys.db"
    schema.create_at_head(f"sqlite:///{path}")
    return path


@pytest.fixture(autouse=True)
def journeys_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty_sqlite_template: Path
) -> Iterator[str]:
    """Point every test (the `user` fixture's main.py included) at its own empty database, engine off."""
    if POSTGRES_URL:
        url = POSTGRES_URL
        empty_database(url)
    else:
        shutil.copyfile(empty_sqlite_template, tmp_path / "journeys.db")
        url = f"sqlite:///{tmp_path / 'journeys.db'}"
    monkeypatch.setenv("JOURNEYS_DATABASE_URL", url)
    monkeypatch.setenv("JOURNEYS_SCHEDULER", "0")
    monkeypatch.setenv("JOURNEYS_DEMO", "0")
    monkeypatch.setenv("JOURNEYS_ADMIN_EMAIL", ADMIN_EMAIL)
    monkeypatch.setenv("JOURNEYS_ADMIN_PASSWORD", ADMIN_PASSWORD)
    monkeypatch.setenv("JOURNEYS_ADMIN_TOKEN", ADMIN_TOKEN)
    yield url


def empty_database(url: str) -> None:
    """Drop every table (alembic_version too) and recreate them empty at the schema head."""
    from sqlalchemy import text

    from engine.db import Database

    database = Database(url)
    database.drop_all()
    with database.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    database.dispose()
    schema.create_at_head(url)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def engine(journeys_env: str, clock: VirtualClock) -> Iterator[Engine]:
    """The engine on this test's database, reading time from the virtual clock."""
    current = Engine.open(Settings(database_url=journeys_env, demo=False, scheduler=False), clock=clock)
    wiring.connect_all(current)
    yield current
    current.close()


@pytest.fixture
def api(engine: Engine) -> Iterator[TestClient]:
    """An HTTP client on the REST API (no pages), sharing the test's engine and virtual clock, sending the
    bootstrap admin's API key."""
    from ui import api as api_package

    bootstrap.bootstrap(engine, engine.settings)
    app = FastAPI()
    api_package.mount(app, engine)
    with TestClient(app, raise_server_exceptions=False,
                    headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as client:
        yield client
