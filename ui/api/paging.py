"""Query parameters shared by every collection route."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Query

from engine.paging import DEFAULT_LIMIT, MAX_LIMIT
from models.common import INT64_END


@dataclass
class Paging:
    limit: int
    offset: int


def paging(
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="page size, 1-200"),
    # Databases count in 64-bit signed integers: a larger offset is a 422, not an overflow.
    offset: int = Query(0, ge=0, lt=INT64_END, description="items to skip"),
) -> Paging:
    return Paging(limit=limit, offset=offset)
