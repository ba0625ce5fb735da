"""Finding customers to pick (the Enroll dialog): by id, e-mail or name, a few at a time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.engine import Engine
from engine.records import matching
from models.audience import Customer

# The attributes a person searches customers by, besides the id, and shows them by.
NAME_ATTRIBUTES = ("name", "firstName", "lastName")
SEARCHED = ("email", *NAME_ATTRIBUTES)
PICK_LIMIT = 20
MAX_PICK_LIMIT = 100


def find_customers(engine: Engine, text: str | None, limit: int = PICK_LIMIT) -> dict[str, Any]:
    """Customers whose id, e-mail or name contains `text` (case-insensitive), in id order, at most `limit`:
    `{data: [{id, name, email}], hasMore}`. Without text, the first customers by id."""
    limit = max(1, min(limit, MAX_PICK_LIMIT))
    columns = [Customer.id, *(Customer.attributes[key].as_string() for key in SEARCHED)]  # type: ignore[index]
    statement = matching(select(Customer.id, Customer.attributes), text, *columns)
    with engine.db.reader() as s:
        rows = s.execute(statement.order_by(Customer.id).limit(limit + 1)).all()
    return {"data": [_pick(customer_id, attributes or {}) for customer_id, attributes in rows[:limit]],
            "hasMore": len(rows) > limit}


def display_name(attributes: dict[str, Any]) -> str:
    """The customer's name from their attributes (`name`, or first and last name), or ""."""
    if isinstance(attributes.get("name"), str) and attributes["name"].strip():
        return str(attributes["name"]).strip()
    parts = [attributes.get(key) for key in ("firstName", "lastName")]
    return " ".join(str(part).strip() for part in parts if isinstance(part, str) and part.strip())


def _pick(customer_id: str, attributes: dict[str, Any]) -> dict[str, Any]:
    email = attributes.get("email")
    return {"id": customer_id, "name": display_name(attributes),
            "email": email if isinstance(email, str) else ""}
