"""Statements run through the driver for the hottest writes (history, enrollment write-back, the outbox):
SQLAlchemy's per-row compiling and parameter processing would cost more than the database's own work.
Values go in as SQLAlchemy would store them, so the ORM reads and compares them the same."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import cache
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


class RowWriter:
    """Rows of `columns` of `table` as the driver stores them: each value converted by its column's type
    (datetimes stamped, JSON dumped), the rest as they are. Build one with `writer` (cached)."""

    def __init__(self, table: Table, columns: Sequence[str], sqlite: bool) -> None:
        types = [table.c[name].type for name in columns]
        self.sqlite = sqlite
        # Only SQLite stores datetimes as text; psycopg takes them as they are.
        self.times = [i for i, kind in enumerate(types) if sqlite and isinstance(kind, DateTime)]
        self.documents = [i for i, kind in enumerate(types) if isinstance(kind, JSON)]

    def rows(self, rows: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
        # A stamper per call: a batch's rows share few moments, each formatted once, and nothing is kept.
        stamp = stamper(self.sqlite)
        stored = []
        for values in rows:
            row = list(values)
            for i in self.times:
                row[i] = stamp(row[i])
            for i in self.documents:
                row[i] = dumps(row[i])
            stored.append(tuple(row))  # the driver's executemany takes tuples
        return stored


@cache
def writer(table: Table, columns: tuple[str, ...], sqlite: bool) -> RowWriter:
    return RowWriter(table, columns, sqlite)
