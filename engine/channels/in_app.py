"""in_app: the message goes into the customer's stored inbox, readable through the API.

The insert is idempotent by delivery id, so a dispatcher that crashed after writing but before marking
the delivery sent writes nothing twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from engine.channels.base import OutgoingMessage
from engine.core import core, now, session
from engine.ids import new_id
from models.channels import InboxMessage


def send(config: dict[str, Any], message: OutgoingMessage) -> None:
    dialect = sqlite if core().db.is_sqlite else postgresql
    statement = dialect.insert(InboxMessage).values(
        id=new_id("msg"), customer_id=message.customer_id, delivery_id=message.delivery_id,
        channel_id=message.channel_id, offer_id=message.offer_id, subject=message.subject,
        body=message.body, created_at=now(),
    ).on_conflict_do_nothing(index_elements=["delivery_id"])
    with session() as s:
        s.execute(statement)
