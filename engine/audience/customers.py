"""Customers: create, read, merge-update, delete, search, and the `update` step's operations.

Any change to a customer's attributes or flags re-evaluates the rule segments for that customer in the same
transaction (see engine.audience.segments).
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, insert, select, update
from sqlmodel import Session

from engine import signals
from engine.audience import segments
from engine.core import core
from engine.core import now as current_time
from engine.core import session as open_session
from engine.errors import Conflict, Invalid
from engine.ids import new_id
from engine.paging import paginate
from engine.records import fetch, matching
from models.audience import CUSTOMER_ID_PATTERN, Customer, CustomerIn, CustomerUpdate
from models.common import iso, json_problem
from models.journey import UpdateOperation


def customer_view(session: Session, customer_id: str) -> dict[str, Any] | None:
    """The CEL `customer` map (attributes + `id`, `segments`, `flags`), or None for an unknown customer."""
    return segments.customer_views(session, [customer_id]).get(customer_id)


def apply_operations(session: Session, customer_id: str, operations: list[UpdateOperation],
                     now: datetime) -> dict[str, Any]:
    """Apply an `update` step's operations inside the caller's transaction; returns the new customer view."""
    row = fetch(session, Customer, customer_id, "customer")
    attributes, flags = dict(row.attributes or {}), dict(row.flags or {})
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
        elif operation.op == "setFlag":
            if not operation.flag:
                raise Invalid(f"{field}: setFlag needs a flag", field=f"{field}.flag")
            flags[operation.flag] = True if operation.value is None else operation.value
        else:
            if not operation.segment_id:
                raise Invalid(f"{field}: {operation.op} needs a segmentId", field=f"{field}.segmentId")
            segments.check_static(session, operation.segment_id, f"{field}.segmentId")
            static.pop(operation.segment_id, None)
            static[operation.segment_id] = operation.op == "addSegment"
    _store(session, row, attributes, flags, now)
    member_of = segments.memberships(session, [customer_id]).get(customer_id, set())
    changes = [(customer_id, segment_id, join) for segment_id, join in static.items()
               if (segment_id in member_of) != join]
    member_of = _after(member_of, changes)
    # Rules see the static segments as they are after this update.
    rule_changes = segments.rule_changes(row, member_of, segments.rule_segments(session), now)
    segments.apply_changes(session, changes + rule_changes, now)
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

def create_customer(data: CustomerIn) -> dict[str, Any]:
    """A new customer (id given or generated); an existing id is 409."""
    moment = current_time()
    with open_session() as s:
        customer_id = data.id or new_id("cus")
        if s.get(Customer, customer_id) is not None:
            raise Conflict(f"customer {customer_id} already exists", {"field": "id"})
        row = Customer(id=customer_id, attributes=merged({}, data.attributes), flags=merged({}, data.flags),
                       created_at=moment, updated_at=moment)
        s.add(row)
        s.flush()
        segments.reevaluate(s, customer_id, moment)
        return _out(s, row)


def get_customer(customer_id: str) -> dict[str, Any]:
    with core().db.reader() as s:
        return _out(s, _customer(s, customer_id))


def update_customer(customer_id: str, data: CustomerUpdate) -> dict[str, Any]:
    """Merge attributes and flags (null removes a key) and re-evaluate rule segments."""
    moment = current_time()
    with open_session() as s:
        row = _customer(s, customer_id)
        attributes, flags = merged(row.attributes or {}, data.attributes), merged(row.flags or {}, data.flags)
        _store(s, row, attributes, flags, moment)
        segments.reevaluate(s, customer_id, moment)
        return _out(s, row)


def delete_customer(customer_id: str) -> None:
    """Delete a customer; they leave every segment (logged) and their active enrollments end (announced, in
    the same transaction). Events and deliveries stay as history."""
    moment = current_time()
    with open_session() as s:
        row = _customer(s, customer_id)
        signals.customer_deleted.send(session=s, customer_id=customer_id, now=moment)
        segments.leave_all(s, customer_id, moment)
        s.delete(row)


def list_customers(search: str | None = None, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """Customers by id; `search` matches the id or any attribute text (case-insensitive)."""
    with core().db.reader() as s:
        statement = select(Customer).order_by(Customer.id)
        statement = matching(statement, search, Customer.id, cast(Customer.attributes, String))
        return paginate(s, statement, limit, offset, _summary)


MAX_IMPORT_LINES = 100_000
IMPORT_FORMATS = {"application/x-ndjson": "jsonl", "application/jsonl": "jsonl",
                  "application/json-lines": "jsonl", "text/csv": "csv"}
_ID = re.compile(CUSTOMER_ID_PATTERN)
_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")

# A parsed import line: (line number, id, attributes, flags)
Record = tuple[int, str, dict[str, Any], dict[str, Any]]


def import_customers(text: str, fmt: str) -> dict[str, Any]:
    """Bulk upsert from JSON lines or CSV (`fmt` "jsonl" or "csv"); existing customers are merged.

    Answers `{created, updated, rejected: [{line, reason}]}`; rule segments are re-evaluated in batches.
    """
    records, rejected = (_parse_jsonl if fmt == "jsonl" else _parse_csv)(text)
    moment = current_time()
    merged_records: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for _line, customer_id, attributes, flags in records:
        previous = merged_records.get(customer_id, ({}, {}))
        merged_records[customer_id] = ({**previous[0], **attributes}, {**previous[1], **flags})
    ids = list(merged_records)
    with open_session() as s:
        existing: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        for start in range(0, len(ids), segments.BATCH):
            chunk = ids[start:start + segments.BATCH]
            for customer_id, attributes, flags in s.execute(
                    select(Customer.id, Customer.attributes, Customer.flags).where(Customer.id.in_(chunk))):
                existing[customer_id] = (attributes or {}, flags or {})
        new_rows = [{"id": c, "attributes": merged({}, a), "flags": merged({}, f), "created_at": moment,
                     "updated_at": moment} for c, (a, f) in merged_records.items() if c not in existing]
        changed_rows = [{"id": c, "attributes": merged(existing[c][0], a), "flags": merged(existing[c][1], f),
                         "updated_at": moment} for c, (a, f) in merged_records.items() if c in existing]
        if new_rows:
            s.execute(insert(Customer), new_rows)
        if changed_rows:
            s.execute(update(Customer), changed_rows)
        segments.reevaluate_many(s, ids, moment)
    return {"created": len(new_rows), "updated": len(changed_rows), "rejected": rejected}


def _parse_jsonl(text: str) -> tuple[list[Record], list[dict[str, Any]]]:
    records: list[Record] = []
    rejected: list[dict[str, Any]] = []
    lines = text.splitlines()
    _check_size(len(lines))
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as error:
            rejected.append({"line": number, "reason": f"not JSON: {error}"})
            continue
        if not isinstance(item, dict):
            rejected.append({"line": number, "reason": "expected a JSON object"})
            continue
        # Either {"id", "attributes", "flags"} or a flat object whose other keys are attributes.
        if "attributes" in item or "flags" in item:
            extra = sorted(set(item) - {"id", "attributes", "flags"})
            attributes, flags = item.get("attributes") or {}, item.get("flags") or {}
            if extra or not isinstance(attributes, dict) or not isinstance(flags, dict):
                rejected.append({"line": number, "reason": f"unexpected field {extra[0]!r}" if extra
                                 else "attributes and flags must be objects"})
                continue
        else:
            attributes, flags = {k: v for k, v in item.items() if k != "id"}, {}
        _accept(records, rejected, number, item.get("id"), attributes, flags)
    return records, rejected


def _parse_csv(text: str) -> tuple[list[Record], list[dict[str, Any]]]:
    records: list[Record] = []
    rejected: list[dict[str, Any]] = []
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "id" not in reader.fieldnames:
        raise Invalid("CSV needs a header row with an `id` column", field="id")
    for row in reader:
        number = reader.line_num
        _check_size(number)
        if None in row:
            rejected.append({"line": number, "reason": "more values than columns"})
            continue
        attributes = {key: _csv_value(value) for key, value in row.items()
                      if key != "id" and value not in ("", None)}
        _accept(records, rejected, number, row.get("id"), attributes, {})
    return records, rejected


def _accept(records: list[Record], rejected: list[dict[str, Any]], number: int, raw_id: Any,
            attributes: dict[str, Any], flags: dict[str, Any]) -> None:
    usable = isinstance(raw_id, str | int) and not isinstance(raw_id, bool)
    customer_id = str(raw_id).strip() if usable else ""
    if not customer_id:
        rejected.append({"line": number, "reason": "missing id"})
    elif not _ID.match(customer_id):
        rejected.append({"line": number, "reason": f"invalid id {customer_id[:40]!r}"})
    elif problem := json_problem(attributes) or json_problem(flags):
        rejected.append({"line": number, "reason": problem})
    else:
        records.append((number, customer_id, attributes, flags))


def _csv_value(text: str) -> Any:
    """CSV cells: integers and decimals become numbers, true/false booleans, anything else stays text."""
    value = text.strip()
    if _INT.match(value):
        return int(value)
    if _FLOAT.match(value):
        return float(value)
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    return text


def _check_size(lines: int) -> None:
    if lines > MAX_IMPORT_LINES:
        raise Invalid(f"at most {MAX_IMPORT_LINES} lines per import", field="body")


def _customer(session: Session, customer_id: str) -> Customer:
    return fetch(session, Customer, customer_id, "customer")


def _summary(row: Customer) -> dict[str, Any]:
    return {"id": row.id, "attributes": row.attributes, "flags": row.flags,
            "createdAt": iso(row.created_at), "updatedAt": iso(row.updated_at)}


def _out(session: Session, row: Customer) -> dict[str, Any]:
    member_of = segments.memberships(session, [row.id]).get(row.id, set())
    return {**_summary(row), "segments": sorted(member_of)}
