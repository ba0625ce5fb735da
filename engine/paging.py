"""Offset pagination for every collection: the `{data, pagination}` envelope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.sql import Select
from sqlmodel import Session

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def envelope(data: list[Any], total: int, limit: int, offset: int) -> dict[str, Any]:
    more = offset + len(data) < total
    return {"data": data, "pagination": {"total": total, "limit": limit, "offset": offset, "hasMore": more}}


def paginate(session: Session, statement: Select[Any], limit: int, offset: int,
             convert: Callable[[Any], Any]) -> dict[str, Any]:
    """One page of `statement` (already filtered and ordered); `convert` turns each row into wire form."""
    counting = select(func.count()).select_from(statement.order_by(None).subquery())
    total = session.execute(counting).scalar_one()
    rows = session.execute(statement.limit(limit).offset(offset)).scalars().all()
    return envelope([convert(row) for row in rows], total, limit, offset)
