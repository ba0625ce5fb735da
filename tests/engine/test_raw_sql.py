"""engine.raw_sql: what the hottest writes store reads back as the ORM would have written it."""

from __future__ import annotations

import json
from datetime import datetime

from engine import raw_sql


def test_dumps_reads_back_as_the_same_document() -> None:
    value = {"customer": {"name": "Zoë", "age": 34, "spend": 420.5, "segments": ["a", "b"], "vip": None},
             "results": [{"offerId": "o1", "score": 0.1 + 0.2}]}
    assert json.loads(raw_sql.dumps(value)) == value


def test_dumps_keeps_integers_beyond_64_bits_and_integer_keys() -> None:
    assert json.loads(raw_sql.dumps({"big": 2**70})) == {"big": 2**70}
    assert json.loads(raw_sql.dumps({1: "one"})) == {"1": "one"}


def test_sqlite_datetimes_are_stamped_as_sqlalchemy_stores_them() -> None:
    stamp = raw_sql.stamper(sqlite=True)
    assert stamp(datetime(2026, 12, 1, 9, 5, 3, 42)) == "2026-12-01 09:05:03.000042"
    assert stamp(None) is None
    moment = datetime(2026, 12, 1)
    assert raw_sql.stamper(sqlite=False)(moment) is moment
