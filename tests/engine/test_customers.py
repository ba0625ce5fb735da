"""Customers: merge updates, search, and bulk import from JSON lines and CSV."""

from __future__ import annotations

import json

import pytest

from engine.audience import customer_import, customers, segments
from engine.core import Core
from engine.errors import Conflict, Invalid, NotFound
from models.audience import CustomerIn, CustomerUpdate, SegmentIn


def test_update_merges_attributes_and_null_removes(engine_core: Core) -> None:
    customers.create_customer(CustomerIn(id="c1", attributes={"a": 1, "b": 2}, flags={"x": True}))
    updated = customers.update_customer("c1", CustomerUpdate(attributes={"b": None, "c": 3}))
    assert updated["attributes"] == {"a": 1, "c": 3}
    assert updated["flags"] == {"x": True}


def test_create_generates_an_id_and_refuses_a_duplicate(engine_core: Core) -> None:
    created = customers.create_customer(CustomerIn(attributes={"a": 1}))
    assert created["id"].startswith("cus_")
    with pytest.raises(Conflict):
        customers.create_customer(CustomerIn(id=created["id"]))


def test_search_matches_id_or_attribute_text(engine_core: Core) -> None:
    customers.create_customer(CustomerIn(id="anna", attributes={"city": "Berlin"}))
    customers.create_customer(CustomerIn(id="bob", attributes={"city": "Paris"}))
    customers.create_customer(CustomerIn(id="carl", attributes={"city": "Berlin"}))
    assert [c["id"] for c in customers.list_customers(search="berlin")["data"]] == ["anna", "carl"]
    assert [c["id"] for c in customers.list_customers(search="BO")["data"]] == ["bob"]
    page = customers.list_customers(limit=2, offset=1)
    assert [c["id"] for c in page["data"]] == ["bob", "carl"]
    assert page["pagination"] == {"total": 3, "limit": 2, "offset": 1, "hasMore": False}


def test_unknown_customer_is_not_found(engine_core: Core) -> None:
    with pytest.raises(NotFound):
        customers.get_customer("nobody")
    with pytest.raises(NotFound):
        customers.update_customer("nobody", CustomerUpdate(attributes={"a": 1}))
    with pytest.raises(NotFound):
        customers.delete_customer("nobody")


def test_jsonl_import_creates_updates_rejects_and_reevaluates_segments(engine_core: Core) -> None:
    segments.create_segment(SegmentIn(id="gold", name="Gold", rule="customer.tier == 'gold'"))
    customers.create_customer(CustomerIn(id="old", attributes={"tier": "silver", "keep": 1}))
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
    result = customer_import.import_customers("\n".join(lines), "jsonl")

    assert (result["created"], result["updated"]) == (2, 1)
    assert [(r["line"], r["reason"][:11]) for r in result["rejected"]] == [
        (4, "not JSON: E"), (5, "missing id"), (6, "expected a ")]
    assert customers.get_customer("old")["attributes"] == {"tier": "gold", "keep": 1}
    assert customers.get_customer("n2")["flags"] == {"vip": True}
    assert [m["customerId"] for m in segments.list_members("gold")["data"]] == ["n1", "n2", "old"]


def test_csv_import_parses_numbers_and_reports_bad_rows(engine_core: Core) -> None:
    segments.create_segment(SegmentIn(id="adults", name="Adults", rule="customer.age >= 18"))
    text = ("id,age,score,city,active\nc1,30,1.5,Berlin,true\n,40,2,Rome,false\n"
            "c2,12,,Paris,false\nc3,50,1,2,3,4\n")
    result = customer_import.import_customers(text, "csv")

    assert (result["created"], result["updated"]) == (2, 0)
    assert result["rejected"] == [{"line": 3, "reason": "missing id"},
                                  {"line": 5, "reason": "more values than columns"}]
    assert customers.get_customer("c1")["attributes"] == {"age": 30, "score": 1.5, "city": "Berlin",
                                                          "active": True}
    assert customers.get_customer("c2")["attributes"] == {"age": 12, "city": "Paris", "active": False}
    assert segments.member_count("adults") == 1


def test_csv_without_id_column_is_invalid(engine_core: Core) -> None:
    with pytest.raises(Invalid) as raised:
        customer_import.import_customers("name,age\nx,1\n", "csv")
    assert raised.value.details["field"] == "id"


def test_import_of_thousands_in_one_request(engine_core: Core) -> None:
    segments.create_segment(SegmentIn(id="even", name="Even", rule="customer.n % 2 == 0"))
    text = "\n".join(json.dumps({"id": f"c{n:05d}", "n": n}) for n in range(5000))
    assert customer_import.import_customers(text, "jsonl") == {"created": 5000, "updated": 0, "rejected": []}
    assert segments.member_count("even") == 2500
    text = "\n".join(json.dumps({"id": f"c{n:05d}", "n": n + 1}) for n in range(5000))
    assert customer_import.import_customers(text, "jsonl")["updated"] == 5000
    assert segments.member_count("even") == 2500
    assert segments.list_members("even", limit=1)["data"][0]["customerId"] == "c00001"
