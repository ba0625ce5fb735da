"""Customers: merge updates, search, and bulk import from JSON lines and CSV."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator

import pytest

from engine.audience import customer_import, customers, segments
from engine.engine import Engine
from engine.errors import Conflict, Invalid, NotFound
from models.audience import CustomerIn, CustomerUpdate, SegmentIn


def test_update_merges_attributes_and_null_removes(engine: Engine) -> None:
    customers.create_customer(engine, CustomerIn(id="c1", attributes={"a": 1, "b": 2}, flags={"x": True}))
    updated = customers.update_customer(engine, "c1", CustomerUpdate(attributes={"b": None, "c": 3}))
    assert updated["attributes"] == {"a": 1, "c": 3}
    assert updated["flags"] == {"x": True}


def test_create_generates_an_id_and_refuses_a_duplicate(engine: Engine) -> None:
    created = customers.create_customer(engine, CustomerIn(attributes={"a": 1}))
    assert created["id"].startswith("cus_")
    with pytest.raises(Conflict):
        customers.create_customer(engine, CustomerIn(id=created["id"]))


def test_search_matches_id_or_attribute_text(engine: Engine) -> None:
    customers.create_customer(engine, CustomerIn(id="anna", attributes={"city": "Berlin"}))
    customers.create_customer(engine, CustomerIn(id="bob", attributes={"city": "Paris"}))
    customers.create_customer(engine, CustomerIn(id="carl", attributes={"city": "Berlin"}))
    assert [c["id"] for c in customers.list_customers(engine, search="berlin")["data"]] == ["anna", "carl"]
    assert [c["id"] for c in customers.list_customers(engine, search="BO")["data"]] == ["bob"]
    page = customers.list_customers(engine, limit=2, offset=1)
    assert [c["id"] for c in page["data"]] == ["bob", "carl"]
    assert page["pagination"] == {"total": 3, "limit": 2, "offset": 1, "hasMore": False}


def test_unknown_customer_is_not_found(engine: Engine) -> None:
    with pytest.raises(NotFound):
        customers.get_customer(engine, "nobody")
    with pytest.raises(NotFound):
        customers.update_customer(engine, "nobody", CustomerUpdate(attributes={"a": 1}))
    with pytest.raises(NotFound):
        customers.delete_customer(engine, "nobody")


def test_jsonl_import_creates_updates_rejects_and_reevaluates_segments(engine: Engine) -> None:
    segments.create_segment(engine, SegmentIn(id="gold", name="Gold", rule="customer.tier == 'gold'"))
    customers.create_customer(engine, CustomerIn(id="old", attributes={"tier": "silver", "keep": 1}))
    lines = [
        json.dumps({"id": "old", "attributes": {"tier": "gold"}}),
        json.dumps({"id": "n1", "tier": "gold", "age": 30}),
        "",
        "{not json",
        json.dumps({"attributes": {"tier": "gold"}}),
        json.dumps(["a list"]),
        json.dumps({"id": "n2", "attributes": {"tier": "bronze"}, "flags": {"vip": True}}),
        json.dumps({"id": "n2", "attributes": {"tier": "gold"}}),
    ]
    result = customer_import.import_customers(engine, "\n".join(lines), "jsonl")

    assert (result["created"], result["updated"]) == (2, 1)
    assert [(r["line"], r["reason"][:11]) for r in result["rejected"]] == [
        (4, "not JSON: E"), (5, "missing id"), (6, "expected a ")]
    assert customers.get_customer(engine, "old")["attributes"] == {"tier": "gold", "keep": 1}
    assert customers.get_customer(engine, "n2")["flags"] == {"vip": True}
    assert [m["customerId"] for m in segments.list_members(engine, "gold")["data"]] == ["n1", "n2", "old"]


def test_csv_import_parses_numbers_and_reports_bad_rows(engine: Engine) -> None:
    segments.create_segment(engine, SegmentIn(id="adults", name="Adults", rule="customer.age >= 18"))
    text = ("id,age,score,city,active\nc1,30,1.5,Berlin,true\n,40,2,Rome,false\n"
            "c2,12,,Paris,false\nc3,50,1,2,3,4\n")
    result = customer_import.import_customers(engine, text, "csv")

    assert (result["created"], result["updated"]) == (2, 0)
    assert result["rejected"] == [{"line": 3, "reason": "missing id"},
                                  {"line": 5, "reason": "more values than columns"}]
    assert customers.get_customer(engine, "c1")["attributes"] == {"age": 30, "score": 1.5, "city": "Berlin",
                                                          "active": True}
    assert customers.get_customer(engine, "c2")["attributes"] == {"age": 12, "city": "Paris", "active": False}
    assert segments.member_count(engine, "adults") == 1


def test_csv_without_id_column_is_invalid(engine: Engine) -> None:
    with pytest.raises(Invalid) as raised:
        customer_import.import_customers(engine, "name,age\nx,1\n", "csv")
    assert raised.value.details["field"] == "id"


def test_import_of_thousands_in_one_request(engine: Engine) -> None:
    segments.create_segment(engine, SegmentIn(id="even", name="Even", rule="customer.n % 2 == 0"))
    text = "\n".join(json.dumps({"id": f"c{n:05d}", "n": n}) for n in range(5000))
    assert customer_import.import_customers(engine, text, "jsonl") == {
        "created": 5000, "updated": 0, "rejected": []}
    assert segments.member_count(engine, "even") == 2500
    text = "\n".join(json.dumps({"id": f"c{n:05d}", "n": n + 1}) for n in range(5000))
    assert customer_import.import_customers(engine, text, "jsonl")["updated"] == 5000
    assert segments.member_count(engine, "even") == 2500
    assert segments.list_members(engine, "even", limit=1)["data"][0]["customerId"] == "c00001"


def _body(lines: Iterator[str], size: int = 65_536) -> Iterator[bytes]:
    """`lines` as the chunks of a body arriving over the network, made as they are asked for."""
    pending = b""
    for line in lines:
        pending += line.encode() + b"\n"
        if len(pending) >= size:
            yield pending
            pending = b""
    yield pending


def test_import_memory_follows_the_batch_not_the_body(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(customer_import, "BATCH", 100)
    count, pad = 4000, "p" * 1000
    body_size = sum(len(json.dumps({"id": f"m{n:05d}", "pad": pad})) + 1 for n in range(count))
    # First-use costs (imports, statements).
    customer_import.import_customers(engine, '{"id": "warm"}', "jsonl")
    tracemalloc.start()
    try:
        result = customer_import.import_body(
            engine, _body(json.dumps({"id": f"m{n:05d}", "pad": pad}) for n in range(count)), "jsonl")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result == {"created": count, "updated": 0, "rejected": []}
    assert peak < body_size / 4, (peak, body_size)  # about 0.65 MB of a 4.1 MB body, at any body size


def test_a_customer_in_several_batches_is_merged_and_counted_per_batch(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(customer_import, "BATCH", 3)
    customers.create_customer(engine, CustomerIn(id="old", attributes={"a": 0}))
    lines = ["id,a,b", "new,1,", "old,1,", "new,,3", "new,,2", "old,,2", "y,1,"]
    assert customer_import.import_customers(engine, "\n".join(lines), "csv") == {
        "created": 2, "updated": 3, "rejected": []}
    assert customers.get_customer(engine, "new")["attributes"] == {"a": 1, "b": 2}
    assert customers.get_customer(engine, "old")["attributes"] == {"a": 1, "b": 2}


def test_a_body_in_chunks_decodes_characters_split_between_them_and_drops_the_bom(
        engine: Engine) -> None:
    data = "\ufeffid,city\r\nk1,Köln\r\nk2,Zürich".encode()
    chunks = [data[n:n + 1] for n in range(len(data))]
    assert customer_import.import_body(engine, chunks, "csv")["created"] == 2
    assert customers.get_customer(engine, "k2")["attributes"] == {"city": "Zürich"}


def test_a_line_that_is_not_utf8_is_rejected_and_the_rest_imported(engine: Engine) -> None:
    body = [b'{"id": "u1"}\n{"id": "u2", "a": "\xff"}\n', b'{"id": "u3"}\n']
    assert customer_import.import_body(engine, body, "jsonl") == {
        "created": 2, "updated": 0, "rejected": [{"line": 2, "reason": "not UTF-8 text"}]}
    csv_body = [b'id,note\nc1,"two\nlines \xe9"\nc2,ok\n']
    assert customer_import.import_body(engine, csv_body, "csv")["rejected"] == [
        {"line": 3, "reason": "not UTF-8 text"}]


def test_an_import_stops_at_the_line_limit_and_names_the_line(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(customer_import, "MAX_IMPORT_LINES", 3)
    stopped = {"line": 4, "reason": "at most 3 lines per import: the import stopped here"}
    jsonl = "\n".join(json.dumps({"id": f"j{n}"}) for n in range(10))
    assert customer_import.import_customers(engine, jsonl, "jsonl") == {"created": 3, "updated": 0,
                                                                "rejected": [stopped]}
    csv_text = "id\n" + "\n".join(f"c{n}" for n in range(10))
    assert customer_import.import_customers(engine, csv_text, "csv") == {"created": 2, "updated": 0,
                                                                 "rejected": [stopped]}


def test_csv_rows_the_csv_module_cannot_read_are_rejected_and_reading_goes_on(engine: Engine) -> None:
    text = "id,note\nc1," + "y" * 140_000 + "\nc2,\"" + "z" * 140_000 + "\"\nc3,ok\n"
    assert customer_import.import_customers(engine, text, "csv") == {"created": 1, "updated": 0, "rejected": [
        {"line": 2, "reason": "not CSV: field larger than field limit (131072)"},
        {"line": 3, "reason": "not CSV: field larger than field limit (131072)"}]}
    unterminated = customer_import.import_customers(engine, 'id,note\nc4,"open\nc5,x', "csv")
    assert unterminated == {"created": 1, "updated": 0, "rejected": []}
    with pytest.raises(Invalid) as raised:
        customer_import.import_customers(engine, "id," + "h" * 140_000 + "\nc6,1\n", "csv")
    assert raised.value.details["field"] == "body"
