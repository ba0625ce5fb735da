"""in_app: the message goes into the customer's stored inbox, readable through the API.

The insert is idempotent by delivery id, so a dispatcher that crashed after writing but before marking
the delivery sent writes nothing twice.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
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


def send(config: dict[str, Any], message: OutgoingMessage) -> None:
    row = {"id": new_id("msg"), "customer_id": message.customer_id, "delivery_id": message.delivery_id,
           "channel_id": message.channel_id, "offer_id": message.offer_id, "subject": message.subject,
           "body": message.body, "created_at": now()}
    with session() as s:
        s.connection().execute(_insert(core().db.is_sqlite), row)
