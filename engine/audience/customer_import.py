"""Bulk import of customers from JSON lines or CSV: parse, check each line, upsert in batches."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from sqlalchemy import insert, select, update

from engine.audience import segments
from engine.audience.customers import merged
from engine.core import now as current_time
from engine.core import session as open_session
from engine.errors import Invalid
from models.audience import CUSTOMER_ID_PATTERN, Customer
from models.common import json_problem

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
