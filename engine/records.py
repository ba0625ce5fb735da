"""What the catalogue modules (offers and decision flows, segments, channels) do alike with their rows:
fetch by id or 404, insert under a new id or 409, search by name."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import or_
from sqlalchemy.sql import Select
from sqlmodel import Session, SQLModel

from engine.errors import Conflict, NotFound

Row = TypeVar("Row", bound=SQLModel)


def fetch(session: Session, model: type[Row], row_id: str, label: str, field: str | None = None) -> Row:
    """The row with this id, or NotFound ("<label> <id> not found", naming `field` if the id came in one)."""
    row = session.get(model, row_id)
    if row is None:
        raise NotFound(f"{label} {row_id} not found", {"field": field} if field else None)
    return row


def insert_new(session: Session, model: type[Row], label: str, row_id: str, values: dict[str, Any],
               now: datetime) -> Row:
    """Add a row created and updated `now`; an id already taken is a Conflict naming the field `id`."""
    if session.get(model, row_id) is not None:
        raise Conflict(f"{label} {row_id} already exists", {"field": "id"})
    row = model(id=row_id, created_at=now, updated_at=now, **values)
    session.add(row)
    return row


def matching(statement: Select, search: str | None, *columns: Any) -> Select:
    """`statement` narrowed to rows where any of `columns` contains `search` (case-insensitive, taken
    literally: % and _ match themselves); unchanged without a search."""
    text = (search or "").strip()
    if not text:
        return statement
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return statement.where(or_(*(column.ilike(pattern, escape="\\") for column in columns)))
