"""in_app: the message goes into the customer's stored inbox, readable through the API.

The insert is idempotent by delivery id, so a dispatcher that crashed after writing but before marking
the delivery sent writes nothing twice. Inside a dispatcher round (`staging`) a message is staged instead
and written with the round's outcomes, in the transaction that marks it sent.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.dml import Insert

from engine.delivery.channels.base import OutgoingMessage, Sending
from engine.engine import Engine
from engine.ids import new_id
from models.channels import InboxMessage


@cache
def _insert(is_sqlite: bool) -> Insert:
    """INSERT … ON CONFLICT (delivery_id) DO NOTHING, built once per dialect."""
    dialect = sqlite if is_sqlite else postgresql
    return dialect.insert(InboxMessage.__table__).on_conflict_do_nothing(index_elements=["delivery_id"])


def send(sending: Sending, config: dict[str, Any], message: OutgoingMessage) -> None:
    """Stage the inbox row in the dispatcher round's `sending.inbox`, or write it at once without one."""
    engine = sending.engine
    row = {"id": new_id("msg"), "customer_id": message.customer_id, "delivery_id": message.delivery_id,
           "channel_id": message.channel_id, "offer_id": message.offer_id, "subject": message.subject,
           "body": message.body, "created_at": engine.now()}
    if sending.inbox is not None:
        sending.inbox.append(row)
        return
    with engine.session() as s:
        write(engine, s.connection(), [row])


def write(engine: Engine, connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert inbox rows (one executemany); a row whose delivery already has one is skipped."""
    connection.execute(_insert(engine.db.is_sqlite), rows)
