"""Work that one engine process at a time should do (the sweep): on PostgreSQL a session advisory lock,
tried without waiting, so the other processes skip their turn instead of queueing behind it or deadlocking
on the same rows. On SQLite there is one engine process: it always may."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from engine.engine import Engine


@contextmanager
def only_one(engine: Engine, name: str) -> Iterator[bool]:
    """Yields True when this process holds the lock `name` for the block, False when another one does."""
    database = engine.db
    if database.is_sqlite:
        yield True
        return
    key = zlib.crc32(f"journeys:{name}".encode())
    with database.engine.connect() as connection:
        held = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar_one())
        connection.commit()
        try:
            yield held
        finally:
            if held:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()
