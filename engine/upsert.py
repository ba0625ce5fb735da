"""Adding deltas to counter rows: INSERT ... ON CONFLICT (key) DO UPDATE SET v = v + excluded.v."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert
from sqlmodel import Session


def add_counts(session: Session, model: type, keys: tuple[str, ...], values: tuple[str, ...],
               rows: list[tuple[Any, ...]]) -> None:
    """Add each row's values to the counter at its key (created at zero); callers sort rows by key so
    concurrent writers take the row locks in one order."""
    if not rows:
        return
    names = keys + values
    statement = _statement(model, keys, values, session.get_bind().dialect.name == "sqlite")
    session.connection().execute(statement, [dict(zip(names, row, strict=True)) for row in rows])


@cache
def _statement(model: type, keys: tuple[str, ...], values: tuple[str, ...], is_sqlite: bool) -> Insert:
    table: Any = model.__table__  # type: ignore[attr-defined]
    statement = (sqlite if is_sqlite else postgresql).insert(table)
    return statement.on_conflict_do_update(
        index_elements=list(keys), set_={name: table.c[name] + statement.excluded[name] for name in values}
    )
