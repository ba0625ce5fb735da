"""Alembic environment: runs migrations on the connection engine/schema.py hands over (config attribute
`connection`), always with batch mode on SQLite so table alterations work there too.

Guidelines for new revisions (write them with `python main.py db revision -m "..."`, see README):
- Alter tables through `with op.batch_alter_table("name") as batch:` — on SQLite this copies the table
  (SQLite cannot ALTER most things), on PostgreSQL it emits plain ALTER statements.
- An index on a big table (enrollment, delivery, event, enrollmenthistory, response, segmentchange)
  should not lock writes on PostgreSQL while it builds: use `create_index_concurrently` below.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import models  # noqa: F401  (registers every table on SQLModel.metadata)

target_metadata = SQLModel.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render SQLModel's AutoString as a plain sa.String so revisions do not import sqlmodel internals."""
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String({obj.length})" if obj.length else "sa.String()"
    return False


def configure(connection: Connection) -> None:
    """The options shared by migrating and by the models-vs-migrations comparison."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        compare_type=True,
        # One transaction per revision: a revision with an autocommit block (a concurrent index) then
        # commits only what came before it, never half of another revision.
        transaction_per_migration=True,
    )


def run() -> None:
    connection: Connection | None = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through engine.schema (python main.py db ...), not alembic's CLI")
    configure(connection)
    with context.begin_transaction():
        context.run_migrations()


run()
