"""Bulk import of customers from JSON lines or CSV: parse as the body arrives, check each line, upsert
in batches."""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from engine.audience import segments
from engine.audience.customers import check_zone, merged
from engine.engine import Engine
from engine.errors import Invalid
from models.audience import CUSTOMER_ID_PATTERN, Customer
from models.common import json_problem

MAX_IMPORT_LINES = 100_000
# Records written per transaction: memory follows one batch, whatever the size of the body.
BATCH = segments.BATCH
IMPORT_FORMATS = {"application/x-ndjson": "jsonl", "application/jsonl": "jsonl",
                  "application/json-lines": "jsonl", "text/csv": "csv"}
_ID = re.compile(CUSTOMER_ID_PATTERN)
_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")

# A parsed import line: (line number, id, attributes, flags)
Record = tuple[int, str, dict[str, Any], dict[str, Any]]
Rejected = list[dict[str, Any]]


def import_customers(engine: Engine, text: str, fmt: str) -> dict[str, Any]:
    """`import_body` for text already in hand."""
    # A lone surrogate (possible in pasted text) makes its line "not UTF-8 text" rather than an error.
    return import_body(engine, [text.encode(errors="surrogatepass")], fmt)


def import_body(engine: Engine, chunks: Iterable[bytes], fmt: str) -> dict[str, Any]:
    """Bulk upsert from UTF-8 JSON lines or CSV (`fmt` "jsonl" or "csv") arriving in chunks of any size,
    parsed as they arrive and written in batches of `BATCH` (each its own transaction, segments
    re-evaluated with it); existing customers are merged.

    Answers `{created, updated, rejected: [{line, reason}]}`: the customers each batch created and updated
    (a customer repeated within a batch counts once; one repeated in a later batch counts again, as
    updated: remembering every id would cost memory in proportion to the body). Past MAX_IMPORT_LINES the
    import stops, and says so as the last rejected line.
    """
    lines = _Lines(chunks)
    rejected: Rejected = []
    counts = {"created": 0, "updated": 0}
    moment = engine.now()
    batch: list[Record] = []
    zone_attribute = engine.settings.timezone_attribute
    for record in (_parse_jsonl if fmt == "jsonl" else _parse_csv)(lines, rejected, zone_attribute):
        batch.append(record)
        if len(batch) >= BATCH:
            _write(engine, batch, counts, moment)
            batch = []
    _write(engine, batch, counts, moment)
    return {**counts, "rejected": rejected}


class _Lines:
    """The text lines of a UTF-8 body arriving in chunks, each with its line end. A line that is not UTF-8
    comes with replacement characters and `took_bad_text` says so, so the record holding it is rejected."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = chunks
        self.count = 0  # lines read so far: the number of the last one
        self._bad = False

    def __iter__(self) -> Iterator[str]:
        # Splitting the bytes at b"\n" is safe in UTF-8 (no multi-byte character holds that byte), and a
        # whole line decodes alone, so a bad byte is pinned to its line.
        decoder = codecs.getincrementaldecoder("utf-8-sig")()  # drops a byte order mark once, at the start
        for line in _byte_lines(self._chunks):
            self.count += 1
            try:
                yield decoder.decode(line, final=True)
            except UnicodeDecodeError:
                self._bad = True
                yield line.decode(errors="replace")

    def took_bad_text(self) -> bool:
        """Whether a line read since the last call was not UTF-8."""
        bad, self._bad = self._bad, False
        return bad

    def past_limit(self, rejected: Rejected) -> bool:
        """Whether the import went past MAX_IMPORT_LINES (then says so in `rejected`)."""
        if self.count <= MAX_IMPORT_LINES:
            return False
        rejected.append({"line": self.count,
                         "reason": f"at most {MAX_IMPORT_LINES} lines per import: the import stopped here"})
        return True


def _byte_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    pending: list[bytes] = []  # the pieces of a line spread over chunks, joined once it ends
    for chunk in chunks:
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            pending.append(chunk[start:end + 1])
            yield b"".join(pending)
            pending.clear()
            start = end + 1
        if start < len(chunk):
            pending.append(chunk[start:])
    if pending:
        yield b"".join(pending)


def _write(engine: Engine, records: list[Record], counts: dict[str, int], moment: datetime) -> None:
    """Upsert one batch in its own transaction, re-evaluate its customers' rule segments, and count it."""
    if not records:
        return
    merged_records: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for _line, customer_id, attributes, flags in records:
        previous = merged_records.get(customer_id, ({}, {}))
        merged_records[customer_id] = ({**previous[0], **attributes}, {**previous[1], **flags})
    ids = list(merged_records)
    with engine.unit_of_work() as uow:
        s = uow.session
        found = select(Customer.id, Customer.attributes, Customer.flags).where(Customer.id.in_(ids))
        existing = {customer_id: (attributes or {}, flags or {})
                    for customer_id, attributes, flags in s.execute(found)}
        new_rows = [{"id": c, "attributes": merged({}, a), "flags": merged({}, f), "created_at": moment,
                     "updated_at": moment} for c, (a, f) in merged_records.items() if c not in existing]
        changed_rows = [{"id": c, "attributes": merged(existing[c][0], a), "flags": merged(existing[c][1], f),
                         "updated_at": moment} for c, (a, f) in merged_records.items() if c in existing]
        if new_rows:
            s.execute(insert(Customer), new_rows)
        if changed_rows:
            s.execute(update(Customer), changed_rows)
        segments.reevaluate_many(uow, ids, moment)
    counts["created"] += len(new_rows)
    counts["updated"] += len(changed_rows)


def _parse_jsonl(lines: _Lines, rejected: Rejected, zone_attribute: str) -> Iterator[Record]:
    for line in lines:
        number = lines.count
        if lines.past_limit(rejected):
            return
        if lines.took_bad_text():
            rejected.append({"line": number, "reason": "not UTF-8 text"})
            continue
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
        yield from _accepted(rejected, number, item.get("id"), attributes, flags, zone_attribute)


def _parse_csv(lines: _Lines, rejected: Rejected, zone_attribute: str) -> Iterator[Record]:
    """Rows are numbered by their last line; a row the csv module cannot read (e.g. a cell over its field
    limit) is rejected like any bad row, and reading goes on at the next line."""
    reader = csv.DictReader(lines)
    try:
        fieldnames = reader.fieldnames
    except csv.Error as error:
        raise Invalid(f"CSV header row unreadable: {error}", field="body") from error
    if lines.took_bad_text():
        raise Invalid("the CSV header row is not UTF-8 text", field="body")
    if not fieldnames or "id" not in fieldnames:
        raise Invalid("CSV needs a header row with an `id` column", field="id")
    while True:
        try:
            row = next(reader)
            problem = None
        except StopIteration:
            return
        except csv.Error as error:
            problem = f"not CSV: {error}"
        number = lines.count
        if lines.past_limit(rejected):
            return
        if lines.took_bad_text():
            problem = "not UTF-8 text"
        elif problem is None and None in row:
            problem = "more values than columns"
        if problem:
            rejected.append({"line": number, "reason": problem})
            continue
        attributes = {key: _csv_value(value) for key, value in row.items()
                      if key != "id" and value not in ("", None)}
        yield from _accepted(rejected, number, row.get("id"), attributes, {}, zone_attribute)


def _accepted(rejected: Rejected, number: int, raw_id: Any, attributes: dict[str, Any],
              flags: dict[str, Any], zone_attribute: str) -> Iterator[Record]:
    """The line's record when its id and values (a time-zone attribute naming a zone) are usable; else its
    rejection."""
    usable = isinstance(raw_id, str | int) and not isinstance(raw_id, bool)
    customer_id = str(raw_id).strip() if usable else ""
    if not customer_id:
        rejected.append({"line": number, "reason": "missing id"})
    elif not _ID.match(customer_id):
        rejected.append({"line": number, "reason": f"invalid id {customer_id[:40]!r}"})
    elif problem := (json_problem(attributes) or json_problem(flags)
                     or _zone_problem(attributes, zone_attribute)):
        rejected.append({"line": number, "reason": problem})
    else:
        yield number, customer_id, attributes, flags


def _zone_problem(attributes: dict[str, Any], zone_attribute: str) -> str | None:
    try:
        check_zone(attributes.get(zone_attribute), f"attributes.{zone_attribute}")
    except Invalid as error:
        return error.message
    return None


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

