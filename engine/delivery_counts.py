"""The delivery and response counters the journey monitor reads by key (DeliveryCounter, ResponseCounter).

Each change is counted in the transaction of the row change it stands for, so the counters always equal
a recount: a delivery queued or suppressed (outbox), moved from queued to sent or failed (dispatcher),
and a delivery's first response of each outcome (responses). No journey or step counts as "".
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.dml import Insert
from sqlmodel import SQLModel

from engine.core import core
from models.channels import DeliveryCounter, ResponseCounter


@cache
def _bump(model: type[SQLModel], is_sqlite: bool) -> Insert:
    """INSERT ... ON CONFLICT (key) DO UPDATE SET count = count + excluded.count, built once per table."""
    table = model.__table__  # type: ignore[attr-defined]
    statement = (sqlite if is_sqlite else postgresql).insert(table)
    return statement.on_conflict_do_update(
        index_elements=[column.name for column in table.primary_key.columns],
        set_={"count": table.c.count + statement.excluded.count},
    )


def delivery_changed(connection: Connection, journey_id: str | None, step_id: str | None, channel_id: str,
                     status: str, previous: str | None = None) -> None:
    """Count one delivery into `status`, and out of `previous` when it had one."""
    key = {"journey_id": journey_id or "", "step_id": step_id or "", "channel_id": channel_id}
    rows: list[dict[str, Any]] = [{**key, "status": status, "count": 1}]
    if previous is not None:
        rows.append({**key, "status": previous, "count": -1})
    # Sorted, so concurrent transactions take the counter rows' locks in one order.
    rows.sort(key=lambda row: row["status"])
    connection.execute(_bump(DeliveryCounter, core().db.is_sqlite), rows)


def first_response(connection: Connection, journey_id: str | None, step_id: str | None, outcome: str) -> None:
    """Count a delivery that drew `outcome` for the first time."""
    connection.execute(_bump(ResponseCounter, core().db.is_sqlite),
                       {"journey_id": journey_id or "", "step_id": step_id or "", "outcome": outcome,
                        "count": 1})
