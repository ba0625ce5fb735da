"""Customers: create, read, merge-update, delete, search, and the `update` step's operations.

Any change to a customer's attributes or flags re-evaluates the rule segments for that customer in the same
transaction (see engine.audience.segments). The time-zone attribute (`JOURNEYS_TIMEZONE_ATTRIBUTE`) only ever
holds an IANA zone name: anything else is refused as it is written, so no send is left without a local time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, select
from sqlmodel import Session

from engine import signals
from engine.audience import customer_erasure, segments
from engine.engine import Engine
from engine.errors import Conflict, Invalid
from engine.ids import new_id
from engine.local_time import zone
from engine.paging import paginate
from engine.records import fetch, matching
from engine.unit_of_work import UnitOfWork
from models.audience import Customer, CustomerIn, CustomerUpdate
from models.common import iso
from models.journey import UpdateOperation


def customer_view(session: Session, customer_id: str) -> dict[str, Any] | None:
    """The CEL `customer` map (attributes + `id`, `segments`, `flags`), or None for an unknown customer."""
    return segments.customer_views(session, [customer_id]).get(customer_id)


def apply_operations(uow: UnitOfWork, customer_id: str, operations: list[UpdateOperation],
                     now: datetime) -> dict[str, Any]:
    """Apply an `update` step's operations inside the caller's transaction; returns the new customer view."""
    row = fetch(uow.session, Customer, customer_id, "customer")
    attributes, flags = dict(row.attributes or {}), dict(row.flags or {})
    zone_attribute = uow.engine.settings.timezone_attribute
    # Static segment joins/leaves by segment id: the last operation on a segment wins.
    static: dict[str, bool] = {}
    for index, operation in enumerate(operations):
        field = f"operations.{index}"
        if operation.op in ("set", "increment", "unset"):
            if not operation.attribute:
                raise Invalid(f"{field}: {operation.op} needs an attribute", field=f"{field}.attribute")
            if operation.op == "set":
                attributes[operation.attribute] = operation.value
            elif operation.op == "unset":
                attributes.pop(operation.attribute, None)
            else:
                current = attributes.get(operation.attribute)
                attributes[operation.attribute] = _incremented(current, operation.value, field)
            if operation.op != "unset" and operation.attribute == zone_attribute:
                check_zone(attributes[zone_attribute], f"{field}.value")
        elif operation.op == "setFlag":
            if not operation.flag:
                raise Invalid(f"{field}: setFlag needs a flag", field=f"{field}.flag")
            flags[operation.flag] = True if operation.value is None else operation.value
        else:
            if not operation.segment_id:
                raise Invalid(f"{field}: {operation.op} needs a segmentId", field=f"{field}.segmentId")
            segments.check_static(uow.session, operation.segment_id, f"{field}.segmentId")
            static.pop(operation.segment_id, None)
            static[operation.segment_id] = operation.op == "addSegment"
    _store(uow.session, row, attributes, flags, now)
    member_of = segments.memberships(uow.session, [customer_id]).get(customer_id, set())
    changes = [(customer_id, segment_id, join) for segment_id, join in static.items()
               if (segment_id in member_of) != join]
    member_of = _after(member_of, changes)
    # Rules see the static segments as they are after this update.
    rule_changes = segments.rule_changes(uow.engine, row, member_of, segments.rule_segments(uow.session), now)
    segments.apply_changes(uow, changes + rule_changes, now)
    return segments.view_of(row, _after(member_of, rule_changes))


def _after(member_of: set[str], changes: list[segments.Change]) -> set[str]:
    joined = {segment_id for _c, segment_id, join in changes if join}
    left = {segment_id for _c, segment_id, join in changes if not join}
    return (member_of - left) | joined


def _incremented(current: Any, by: Any, field: str) -> float | int:
    step = 1 if by is None else by
    base = 0 if current is None else current
    if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in (step, base)):
        raise Invalid(f"{field}: increment needs numbers (have {base!r} + {step!r})", field=f"{field}.value")
    return base + step


def _store(session: Session, row: Customer, attributes: dict[str, Any], flags: dict[str, Any],
           now: datetime) -> None:
    # New dict objects, so the JSON columns are seen as changed.
    row.attributes = attributes
    row.flags = flags
    row.updated_at = now
    session.add(row)
    session.flush()


def check_zone(value: Any, field: str) -> None:
    """Refuse (422 naming `field`) a time-zone attribute value that is not an IANA zone; null removes it."""
    if value is not None:
        zone(value, field)


def check_zone_attribute(engine: Engine, attributes: dict[str, Any] | None) -> None:
    """Refuse attributes (a patch) whose time-zone attribute is set to something that is not an IANA zone."""
    attribute = engine.settings.timezone_attribute
    check_zone((attributes or {}).get(attribute), f"attributes.{attribute}")


def merged(current: dict[str, Any], patch: dict[str, Any] | None) -> dict[str, Any]:
    """`patch` merged into `current`; a key whose value is None is removed."""
    result = dict(current)
    for key, value in (patch or {}).items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


# ---- API and pages -----------------------------------------------------------------------------------

def create_customer(engine: Engine, data: CustomerIn) -> dict[str, Any]:
    """A new customer (id given or generated); an existing id is 409."""
    check_zone_attribute(engine, data.attributes)
    moment = engine.now()
    with engine.unit_of_work() as uow:
        s = uow.session
        customer_id = data.id or new_id("cus")
        if s.get(Customer, customer_id) is not None:
            raise Conflict(f"customer {customer_id} already exists", {"field": "id"})
        row = Customer(id=customer_id, attributes=merged({}, data.attributes), flags=merged({}, data.flags),
                       created_at=moment, updated_at=moment)
        s.add(row)
        s.flush()
        segments.reevaluate(uow, customer_id, moment)
        return _out(s, row)


def get_customer(engine: Engine, customer_id: str) -> dict[str, Any]:
    with engine.db.reader() as s:
        return _out(s, _customer(s, customer_id))


def update_customer(engine: Engine, customer_id: str, data: CustomerUpdate) -> dict[str, Any]:
    """Merge attributes and flags (null removes a key) and re-evaluate rule segments."""
    check_zone_attribute(engine, data.attributes)
    moment = engine.now()
    with engine.unit_of_work() as uow:
        s = uow.session
        row = _customer(s, customer_id)
        attributes, flags = merged(row.attributes or {}, data.attributes), merged(row.flags or {}, data.flags)
        _store(s, row, attributes, flags, moment)
        segments.reevaluate(uow, customer_id, moment)
        return _out(s, row)


def delete_customer(engine: Engine, customer_id: str) -> None:
    """Delete a customer, in one transaction: their active enrollments end (announced), they leave every
    segment (logged), and what belonged to them is erased (engine.audience.customer_erasure), audited."""
    moment = engine.now()
    with engine.unit_of_work() as uow:
        s = uow.session
        s.delete(_customer(s, customer_id))
        # Policed as it flushes: a role that may not delete customers is refused before anything is erased.
        s.flush()
        signals.customer_deleted.send(uow=uow, customer_id=customer_id, now=moment, engine=engine)
        segments.leave_all(uow, customer_id, moment)
        customer_erasure.erase(s, customer_id, moment, uow.actor)


def list_customers(
    engine: Engine, search: str | None = None, limit: int = 50, offset: int = 0
) -> dict[str, Any]:
    """Customers by id; `search` matches the id or any attribute text (case-insensitive)."""
    with engine.db.reader() as s:
        statement = select(Customer).order_by(Customer.id)
        statement = matching(statement, search, Customer.id, cast(Customer.attributes, String))
        return paginate(s, statement, limit, offset, _summary)


def _customer(session: Session, customer_id: str) -> Customer:
    return fetch(session, Customer, customer_id, "customer")


def _summary(row: Customer) -> dict[str, Any]:
    return {"id": row.id, "attributes": row.attributes, "flags": row.flags,
            "createdAt": iso(row.created_at), "updatedAt": iso(row.updated_at)}


def _out(session: Session, row: Customer) -> dict[str, Any]:
    member_of = segments.memberships(session, [row.id]).get(row.id, set())
    return {**_summary(row), "segments": sorted(member_of)}
