"""Statements run through the driver for the hottest writes (history, enrollment write-back, the outbox):
SQLAlchemy's per-row compiling and parameter processing would cost more than the database's own work.
Values go in as SQLAlchemy would store them, so the ORM reads and compares them the same."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import JSON, DateTime, Table

# How SQLAlchemy stores datetimes on SQLite (text): a raw write must match it for comparisons to hold.
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"


def mark(sqlite: bool) -> str:
    """The driver's parameter placeholder (sqlite3: qmark; psycopg: format)."""
    return "?" if sqlite else "%s"


def insert_sql(table: str, columns: Sequence[str], sqlite: bool) -> str:
    """`INSERT INTO table (columns) VALUES (placeholders)`."""
    marks = ", ".join([mark(sqlite)] * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"


def stamper(sqlite: bool) -> Callable[[datetime | None], Any]:
    """Datetimes as SQLAlchemy stores them (text on SQLite), each distinct one formatted once."""
    if not sqlite:
        return lambda moment: moment
    formatted: dict[datetime, str] = {}

    def stamp(moment: datetime | None) -> str | None:
        if moment is None:
            return None
        text = formatted.get(moment)
        if text is None:
            text = formatted[moment] = moment.strftime(SQLITE_DATETIME)
        return text

    return stamp


def dumps(value: Any) -> str:
    """JSON text for a JSON column: orjson (several times faster than json, and a batch writes one or more
    documents per step), falling back to json for what orjson refuses (integers beyond 64 bits)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)


def converters(table: Table, columns: Sequence[str], sqlite: bool) -> list[Callable[[Any], Any] | None]:
    """For each of `columns`, how a value is stored in it by the driver (from the column's type: datetimes
    stamped, JSON dumped), or None where it goes in as it is. One stamper serves every datetime column."""
    stamp = stamper(sqlite)
    kinds: list[Callable[[Any], Any] | None] = []
    for name in columns:
        kind = table.c[name].type
        kinds.append(stamp if isinstance(kind, DateTime) else dumps if isinstance(kind, JSON) else None)
    return kinds


def stored(values: Sequence[Any], kinds: Sequence[Callable[[Any], Any] | None]) -> tuple[Any, ...]:
    """`values` converted by `kinds` (from `converters`), in order."""
    return tuple(value if kind is None else kind(value) for value, kind in zip(values, kinds, strict=True))
