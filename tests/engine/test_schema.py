"""Schema migrations: the chain builds what the models declare, start-up upgrades (once, under a lock), a
database made before migrations is adopted with every row intact, and a newer database is refused.

Runs on SQLite, and on PostgreSQL when JOURNEYS_TEST_DATABASE_URL is set (each test then wipes it first)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, event, inspect, pool, select, text
from sqlalchemy.engine import Engine as SqlEngine
from sqlmodel import SQLModel, create_engine

from engine import schema, startup
from engine.clock import VirtualClock
from engine.runtime import runner
from engine.settings import Settings, parse_cli
from models.enrollment import Enrollment, EnrollmentHistory
from models.migrations.ops import create_index_concurrently

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The legacy fixture's demo journey: 40 customers entered at START and parked in a 2-day wait.
START = datetime(2026, 1, 5, 9, 0, 0)
WAIT_ENDS = START + timedelta(days=2)


def plain_engine(url: str) -> SqlEngine:
    return create_engine(url, poolclass=pool.NullPool)


@pytest.fixture
def blank(journeys_env: str, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all (a new SQLite file, or the PostgreSQL test database wiped)."""
    if journeys_env.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    wipe(journeys_env)
    yield journeys_env
    wipe(journeys_env)


def wipe(url: str) -> None:
    engine = plain_engine(url)
    existing = MetaData()
    existing.reflect(engine)
    existing.drop_all(engine)
    engine.dispose()


def revisions_in(url: str) -> list[str]:
    engine = plain_engine(url)
    with engine.connect() as connection:
        found = [row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))]
    engine.dispose()
    return found


def differences(url: str) -> list[Any]:
    """What autogenerate would write to make the database match the models (empty: they agree)."""
    engine = plain_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        found = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    return found


# ---- the chain ----------------------------------------------------------------------------------------


def test_migrations_form_one_line_of_revisions() -> None:
    # Two revisions written in parallel on the same parent make two heads: merge or re-parent one.
    assert len(schema.scripts().get_heads()) == 1
    assert schema.BASELINE in [script.revision for script in schema.scripts().walk_revisions()]


def test_migrating_an_empty_database_builds_exactly_the_models_schema(blank: str) -> None:
    schema.upgrade(blank)
    assert differences(blank) == []
    assert revisions_in(blank) == [schema.head()]


def test_test_databases_made_by_create_all_match_the_migrations(journeys_env: str) -> None:
    # The per-test database (create_all + stamp) is what the migration chain builds, and at head.
    assert differences(journeys_env) == []
    assert schema.current(journeys_env) == (schema.head(),)


def test_every_revision_downgrades_and_upgrades_again(blank: str) -> None:
    schema.upgrade(blank)
    engine = plain_engine(blank)
    with engine.begin() as connection:
        command.downgrade(schema.config(connection), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    schema.upgrade(blank)
    assert differences(blank) == []


def test_upgrading_a_database_at_head_changes_nothing(blank: str) -> None:
    schema.upgrade(blank)
    schema.upgrade(blank)
    assert revisions_in(blank) == [schema.head()]


# ---- start-up -------------------------------------------------------------------------------------------


def test_start_up_on_an_empty_database_records_the_head_revision(blank: str) -> None:
    engine = startup.start(Settings(database_url=blank, demo=False, scheduler=False), VirtualClock())
    engine.close()
    assert revisions_in(blank) == [schema.head()]


def test_processes_starting_at_once_upgrade_one_at_a_time(blank: str) -> None:
    # Without the lock each would see an empty database and create the same tables: all but one would fail.
    # Real processes (as when two app instances start together), each waiting on a common go file.
    go = Path(blank.removeprefix("sqlite:///")).with_suffix(".go") if blank.startswith("sqlite") else None
    signal = go or Path(os.environ.get("TMPDIR", "/tmp")) / f"journeys-go-{os.getpid()}"
    script = (
        "import sys, time, pathlib\n"
        "from engine import schema\n"
        "while not pathlib.Path(sys.argv[2]).exists(): time.sleep(0.01)\n"
        "schema.upgrade(sys.argv[1])\n"
    )
    processes = [subprocess.Popen([sys.executable, "-c", script, blank, str(signal)], cwd=ROOT,
                                  stderr=subprocess.PIPE, text=True) for _ in range(3)]
    time.sleep(3)  # let every process finish importing; then all start upgrading at the same moment
    signal.touch()
    try:
        outcomes = [(process.wait(timeout=120), process.stderr.read()) for process in processes]  # type: ignore[union-attr]
    finally:
        signal.unlink()
    assert outcomes == [(0, "")] * 3
    assert revisions_in(blank) == [schema.head()]
    assert differences(blank) == []


def stamp_unknown_revision(url: str) -> None:
    schema.upgrade(url)
    engine = plain_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00dfeedc0de'"))
    engine.dispose()


def test_a_database_newer_than_the_code_is_refused(blank: str) -> None:
    stamp_unknown_revision(blank)
    with pytest.raises(schema.SchemaTooNewError, match=r"f00dfeedc0de.*newer release"):
        startup.start(Settings(database_url=blank, demo=False, scheduler=False))
    assert schema.status("f00dfeedc0de") == "newer"
    assert revisions_in(blank) == ["f00dfeedc0de"]


def run_main(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in {"PYTEST_CURRENT_TEST",
                                                                         "JOURNEYS_DATABASE_URL"}}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_app_refuses_to_start_on_a_newer_database_with_a_clear_message(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    stamp_unknown_revision(url)
    done = run_main("--db", url, "--no-demo", "--no-scheduler", "--port", "1", cwd=tmp_path)
    assert done.returncode == 1
    assert "journeys: The database is at schema revision f00dfeedc0de" in done.stderr
    assert "Traceback" not in done.stderr


def test_db_commands_upgrade_and_report_the_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    assert "(none: empty" in run_main("--db", url, "db", "current", cwd=tmp_path).stdout
    upgraded = run_main("db", "--db", url, "upgrade", cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert run_main("--db", url, "db", "current", cwd=tmp_path).stdout == f"{schema.head()} (head)\n"
    history = run_main("db", "history", cwd=tmp_path).stdout
    assert f"{schema.head()} (head)" in history and "baseline" in history


def test_the_command_line_keeps_serving_by_default_and_adds_db_commands() -> None:
    served = parse_cli(["--port", "8099", "--no-demo", "--db", "sqlite:///a.db"])
    assert (served.command, served.settings.port, served.settings.demo) == ("serve", 8099, False)
    assert served.settings.database_url == "sqlite:///a.db"
    for argv in (["--db", "sqlite:///b.db", "db", "upgrade"], ["db", "--db", "sqlite:///b.db", "upgrade"]):
        upgrade = parse_cli(argv)
        assert (upgrade.command, upgrade.action, upgrade.settings.database_url) == ("db", "upgrade",
                                                                                    "sqlite:///b.db")
    revision = parse_cli(["db", "revision", "-m", "add journey revision"])
    assert revision.options == {"message": "add journey revision"}
    with pytest.raises(SystemExit):
        parse_cli(["db", "sideways"])


# ---- a database from before migrations ----------------------------------------------------------------


def load_legacy(url: str) -> None:
    """Restore the database the last release before migrations left (tests/engine/fixtures/)."""
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            connection.executescript((FIXTURES / "legacy_create_all.sqlite.sql").read_text())
        return
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute((FIXTURES / "legacy_create_all.postgres.sql").read_text())  # type: ignore[arg-type]


def snapshot(url: str, tables: MetaData | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table in `tables` (default: all), in primary-key order; only the columns
    `tables` knows, so columns later revisions add do not count."""
    engine = plain_engine(url)
    present = MetaData()
    present.reflect(engine)
    rows = {}
    with engine.connect() as connection:
        for name, old in (tables or present).tables.items():
            if name == "alembic_version":
                continue
            table = present.tables[name]
            columns = [table.c[column.name] for column in old.columns]
            query = select(*columns).order_by(*table.primary_key.columns)
            rows[name] = [tuple(row) for row in connection.execute(query)]
    engine.dispose()
    return rows


def test_a_database_made_before_migrations_upgrades_with_every_row_intact(blank: str) -> None:
    load_legacy(blank)
    legacy = MetaData()
    legacy.reflect(plain_engine(blank))
    before = snapshot(blank)
    assert "alembic_version" not in legacy.tables
    assert {name: len(rows) for name, rows in before.items() if name in {
        "journey", "enrollment", "delivery", "stepcounter", "journeycounter", "deliverycounter"}} == {
        "journey": 1, "enrollment": 40, "delivery": 40, "stepcounter": 5, "journeycounter": 3,
        "deliverycounter": 2}

    engine = startup.start(Settings(database_url=blank, demo=False, scheduler=False),
                           VirtualClock(START + timedelta(days=1)))
    engine.close()

    assert revisions_in(blank) == [schema.head()]
    assert snapshot(blank, legacy) == before
    assert differences(blank) == []


def test_waits_begun_before_the_upgrade_resume_on_time(blank: str) -> None:
    load_legacy(blank)
    clock = VirtualClock(START + timedelta(days=1))
    engine = startup.start(Settings(database_url=blank, demo=False, scheduler=False), clock)

    def waiting() -> list[Enrollment]:
        with engine.session() as s:
            query = select(Enrollment).where(Enrollment.step_id == "wait", Enrollment.status == "active")
            return list(s.scalars(query))

    parked = waiting()
    # 40 entered; one bought during the wait and moved on before the upgrade.
    assert len(parked) == 39
    assert {enrollment.next_run_at for enrollment in parked} == {WAIT_ENDS}

    clock.set(WAIT_ENDS - timedelta(seconds=1))
    runner.run_due(engine)
    assert len(waiting()) == 39

    clock.set(WAIT_ENDS)
    runner.run_due(engine)
    assert waiting() == []
    with engine.session() as s:
        resumed = s.scalars(select(EnrollmentHistory).where(
            EnrollmentHistory.step_id == "route", EnrollmentHistory.at == WAIT_ENDS)).all()
        ended = s.scalars(select(Enrollment).where(Enrollment.id.in_([e.id for e in parked]))).all()
    assert len(resumed) == 39
    # No purchase: 38 leave by the "no response" exit; the one who clicked gets the webhook nudge.
    assert sorted(enrollment.status for enrollment in ended).count("active") == 0
    assert sum(enrollment.exit_reason == "no_response" for enrollment in ended) == 38
    engine.close()


# ---- helpers for revisions -------------------------------------------------------------------------------


def test_create_index_concurrently_builds_the_index_without_a_transaction_on_postgresql(blank: str) -> None:
    engine = plain_engine(blank)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE probe (id INTEGER PRIMARY KEY, at TIMESTAMP)"))
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda _conn, _cursor, statement, *_: statements.append(statement))
    with engine.connect() as connection:
        with Operations.context(MigrationContext.configure(connection)):
            create_index_concurrently("ix_probe_at", "probe", ["at"])
        connection.commit()
    assert [index["name"] for index in inspect(engine).get_indexes("probe")] == ["ix_probe_at"]
    created = [statement for statement in statements if statement.startswith("CREATE INDEX")]
    if engine.dialect.name == "postgresql":
        assert created == ["CREATE INDEX CONCURRENTLY ix_probe_at ON probe (at)"]
    else:
        assert created == ["CREATE INDEX ix_probe_at ON probe (at)"]
    engine.dispose()
