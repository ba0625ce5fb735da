"""The customer attributes a condition can test, with their types: read off a bounded sample of customers.

What CEL sees as `customer` is a customer's attributes plus `id`, `segments` and `flags`
(engine.audience.segments.view_of). The condition builder offers those names with a type each, so it can
offer the operators that fit and write values as the right kind of literal. Attribute documents are free
JSON, so the types come from the values found: the most common kind per name among at most `SAMPLE`
customers (a map is walked one level down, `customer.address.city`). The answer is kept for `TTL`, so a
page opening many panels does not rescan.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select

from engine.db import Database
from engine.engine import Engine
from models.audience import Customer, Segment

Kind = Literal["string", "number", "bool", "list", "date", "map"]
SAMPLE = 500  # customers read at most: enough to see every attribute a catalogue uses, cheap at 1M customers
TTL = timedelta(seconds=60)
MAX_EXAMPLES = 12  # distinct short values kept per attribute, offered as value suggestions
_SHORT = 40  # longer strings are not offered as examples (free text, not a category)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")


@dataclass(frozen=True)
class Attribute:
    """A path CEL can read (`customer.age`), its type, how many sampled customers have it, and examples."""

    path: str
    kind: Kind
    seen: int = 0
    examples: tuple[str, ...] = ()


# Per database object (not URL: tests reuse one PostgreSQL URL with fresh tables and a fresh engine).
_cache: weakref.WeakKeyDictionary[Database, tuple[datetime, list[Attribute]]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def kind_of(value: Any) -> Kind | None:
    """The builder type of one JSON value (None for null)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    text = str(value)
    return "date" if _DATE.match(text) else "string"


def customer_attributes(engine: Engine, *, fresh: bool = False) -> list[Attribute]:
    """Every attribute path found on a sample of customers, then `customer.id`, `customer.segments` and
    each flag; cached for `TTL` (`fresh` reads again)."""
    database = engine.db
    now = engine.now()
    with _lock:
        hit = _cache.get(database)
        if hit is not None and not fresh and now - hit[0] < TTL:
            return hit[1]
    with database.reader() as s:
        rows = s.execute(select(Customer.attributes, Customer.flags).limit(SAMPLE)).all()
        segment_ids = s.execute(select(Segment.id).order_by(Segment.id).limit(MAX_EXAMPLES)).scalars().all()
    found = _Tally()
    flags = _Tally()
    for attributes, customer_flags in rows:
        found.add_document("customer.", attributes or {}, depth=1)
        flags.add_document("customer.flags.", customer_flags or {}, depth=0)
    result = [
        *found.attributes(),
        Attribute("customer.id", "string", len(rows)),
        Attribute("customer.segments", "list", len(rows), tuple(segment_ids)),
        *flags.attributes(),
    ]
    with _lock:
        _cache[database] = (now, result)
    return result


class _Tally:
    """Counts, per path, the kinds and the distinct short values seen."""

    def __init__(self) -> None:
        self.kinds: dict[str, Counter[Kind]] = {}
        self.values: dict[str, dict[str, None]] = {}

    def add_document(self, prefix: str, document: dict[str, Any], depth: int) -> None:
        for key, value in document.items():
            if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_]\w*", key):
                continue  # not reachable with CEL's dot syntax: the builder cannot name it
            path = prefix + key
            kind = kind_of(value)
            if kind is None:
                continue
            if kind == "map" and depth > 0:
                self.add_document(path + ".", value, depth - 1)
                continue
            self.kinds.setdefault(path, Counter())[kind] += 1
            for item in value if kind == "list" else [value]:
                self._example(path, item)

    def _example(self, path: str, value: Any) -> None:
        if isinstance(value, dict | list | bool) or value is None:
            return
        text = str(value)
        seen = self.values.setdefault(path, {})
        if len(text) <= _SHORT and len(seen) < MAX_EXAMPLES:
            seen[text] = None

    def attributes(self) -> list[Attribute]:
        return [
            Attribute(path, counts.most_common(1)[0][0], sum(counts.values()),
                      tuple(sorted(self.values.get(path, {}))))
            for path, counts in sorted(self.kinds.items())
        ]


def forget() -> None:
    """Drop the cached answers (tests, or after a bulk import that changed what customers carry)."""
    with _lock:
        _cache.clear()
