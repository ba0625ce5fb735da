"""Schema versions (Alembic, migrations in models/migrations/): upgrade a database to the code's head under a
lock, adopt a database made before migrations existed, refuse one newer than the code, and report history."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, inspect, pool, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel, create_engine

import models  # noqa: F401  (registers every table on SQLModel.metadata)

# The revision equal to the schema the last release before migrations made with create_all.
BASELINE = "c3a9d2f0b7e1"
# A fixed key for PostgreSQL's advisory lock: one migrating process per database at a time.
_ADVISORY_LOCK_KEY = 0x6A6F75726E6579  # "journey"
# Always present in a Journeys database, in every release: its presence without alembic_version means the
# database was made by create_all before migrations existed.
_MARKER_TABLE = "journey"


class SchemaTooNewError(RuntimeError):
    """The database was upgraded by a newer release than this code."""


def config(connection: Connection | None = None) -> Config:
    """An Alembic configuration without alembic.ini: scripts ship inside the `models` package."""
    cfg = Config()
    cfg.set_main_option("script_location", "models:migrations")
    cfg.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    cfg.attributes["connection"] = connection
    return cfg


def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(config())


def head() -> str:
    """The newest revision this code knows (there must be exactly one)."""
    return scripts().get_current_head() or ""


def status(revision: str) -> str:
    """How a database revision relates to this code: `head`, `behind` (upgrade pending) or `newer`."""
    directory = scripts()
    if revision == directory.get_current_head():
        return "head"
    known = {script.revision for script in directory.walk_revisions()}
    return "behind" if revision in known else "newer"


def _migration_engine(url: str) -> Engine:
    """A private engine for migrating: one connection, nothing pooled beyond the run.

    On SQLite every transaction begins IMMEDIATE (the database's write lock, so a second process starting at
    the same moment waits for the first to finish), waits long for that lock, and runs with foreign keys off
    as batch mode requires (it copies and renames tables, which must not cascade or fail on references).
    """
    if not url.startswith("sqlite"):
        return create_engine(url, poolclass=pool.NullPool)
    engine = create_engine(url, poolclass=pool.NullPool, connect_args={"timeout": 600})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys=OFF")

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@contextmanager
def _locked(url: str) -> Iterator[Connection]:
    """A connection holding the database's migration lock until the block ends."""
    engine = _migration_engine(url)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                with connection.begin():  # BEGIN IMMEDIATE: held until the block commits
                    yield connection
                return
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
            connection.commit()
            try:
                yield connection
            finally:
                connection.rollback()
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _ADVISORY_LOCK_KEY})
                connection.commit()
    finally:
        engine.dispose()


def _current(connection: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(connection).get_current_heads())


def _refuse_newer(connection: Connection, directory: ScriptDirectory) -> None:
    for revision in _current(connection):
        if status(revision) == "newer":
            raise SchemaTooNewError(
                f"The database is at schema revision {revision}, which this release of Journeys does not "
                f"know (its newest is {directory.get_current_head()}): a newer release has upgraded it. "
                "Run that release (or newer), or restore a backup taken before the upgrade."
            )


def _predates_migrations(connection: Connection) -> bool:
    tables = set(inspect(connection).get_table_names())
    return _MARKER_TABLE in tables and "alembic_version" not in tables


def upgrade(url: str, target: str = "head") -> None:
    """Bring the database to `target` (default: the code's head), creating it when empty.

    Holds the migration lock throughout; refuses a database newer than the code (SchemaTooNewError); a
    database made by create_all before migrations existed is first stamped at the baseline it matches.
    """
    directory = scripts()
    with _locked(url) as connection:
        _refuse_newer(connection, directory)
        cfg = config(connection)
        if _predates_migrations(connection):
            command.stamp(cfg, BASELINE)
        if connection.dialect.name != "sqlite":
            # PostgreSQL: Alembic runs one transaction per revision itself (a revision may need an autocommit
            # block for CREATE INDEX CONCURRENTLY); the advisory lock lives on the session, not a transaction.
            connection.commit()
        command.upgrade(cfg, target)
        connection.commit()


def current(url: str) -> tuple[str, ...]:
    """The revisions the database is stamped at (empty: not under migrations yet)."""
    engine = _migration_engine(url)
    try:
        with engine.connect() as connection:
            return _current(connection)
    finally:
        engine.dispose()


def history() -> list[str]:
    """One line per revision, newest first: `<down> -> <rev> (head), <message>`."""
    lines = []
    for script in scripts().walk_revisions():
        lines.append(script.cmd_format(verbose=False, include_branches=True, include_doc=True,
                                       include_parents=True))
    return lines


def create_at_head(url: str) -> None:
    """Create every table from the models and stamp the head: a quick empty database for tests, equal to
    what `upgrade` builds (tests/engine/test_schema.py pins that the two agree)."""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        SQLModel.metadata.create_all(engine)
        with engine.begin() as connection:
            command.stamp(config(connection), "head")
    finally:
        engine.dispose()


def new_revision(message: str) -> Path:
    """Write a revision file holding what the models changed since head (autogenerate), and return its path.

    Compared on a scratch SQLite database upgraded to head, so no real database is touched; review the file
    (PostgreSQL-only needs such as concurrent indexes are written by hand, see models/migrations/ops.py).
    """
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'scratch.db'}"
        upgrade(url)
        engine = _migration_engine(url)
        try:
            with engine.connect() as connection:
                cfg = config(connection)
                # Format the written file the project's way (ruff is a test dependency).
                cfg.set_section_option("post_write_hooks", "hooks", "ruff")
                cfg.set_section_option("post_write_hooks", "ruff.type", "module")
                cfg.set_section_option("post_write_hooks", "ruff.module", "ruff")
                cfg.set_section_option("post_write_hooks", "ruff.options", "format REVISION_SCRIPT_FILENAME")
                script = command.revision(cfg, message=message, autogenerate=True)
        finally:
            engine.dispose()
    if script is None or isinstance(script, list):
        raise RuntimeError("expected exactly one new revision")
    return Path(script.path)
