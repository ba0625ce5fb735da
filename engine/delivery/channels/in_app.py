"""in_app: the message goes into the customer's stored inbox, readable through the API.

The insert is idempotent by delivery id, so a dispatcher that crashed after writing but before marking
the delivery sent writes nothing twice. Inside a dispatcher round (`staging`) a message is staged instead
and written with the round's outcomes, in the transaction that marks it sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.dml import Insert

from engine.core import core, now, session
from engine.delivery.channels.base import OutgoingMessage
from engine.ids import new_id
from models.channels import InboxMessage


@cache
def _insert(is_sqlite: bool) -> Insert:
    """INSERT … ON CONFLICT (delivery_id) DO NOTHING, built once per dialect."""
    dialect = sqlite if is_sqlite else postgresql
    return dialect.insert(InboxMessage.__table__).on_conflict_do_nothing(index_elements=["delivery_id"])


# The inbox rows staged by the dispatcher round running in this thread (None: write at once).
_staged: ContextVar[list[dict[str, Any]] | None] = ContextVar("in_app_staged", default=None)


def send(config: dict[str, Any], message: OutgoingMessage) -> None:
    row = {"id": new_id("msg"), "customer_id": message.customer_id, "delivery_id": message.delivery_id,
           "channel_id": message.channel_id, "offer_id": message.offer_id, "subject": message.subject,
           "body": message.body, "created_at": now()}
    staged = _staged.get()
    if staged is not None:
        staged.append(row)
        return
    with session() as s:
        write(s.connection(), [row])


@contextmanager
def staging() -> Iterator[list[dict[str, Any]]]:
    """Messages sent in this thread meanwhile are staged in the yielded list, for `write` (a dispatcher
    round writes them in the transaction that records them sent: one commit for many, never one without
    the other)."""
    staged: list[dict[str, Any]] = []
    token = _staged.set(staged)
    try:
        yield staged
    finally:
        _staged.reset(token)


def write(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert inbox rows (one executemany); a row whose delivery already has one is skipped."""
    connection.execute(_insert(core().db.is_sqlite), rows)
