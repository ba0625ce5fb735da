"""The attributes customers carry, with their types, for the condition builder: inferred, bounded, cached."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.audience import attributes, customers, segments
from engine.audience.attributes import Attribute, customer_attributes, kind_of
from engine.clock import VirtualClock
from engine.engine import Engine
from models.audience import CustomerIn, CustomerUpdate, SegmentIn


def by_path(found: list[Attribute]) -> dict[str, Attribute]:
    return {attribute.path: attribute for attribute in found}


def test_each_attribute_gets_the_type_of_its_values(engine: Engine) -> None:
    customers.create_customer(engine, CustomerIn(id="a", attributes={
        "age": 31, "score": 0.5, "vip": True, "country": "DE", "tags": ["gold", "new"],
        "signupDate": "2025-04-01", "lastSeen": "2026-01-02T10:00:00Z", "address": {"city": "Berlin"},
        "notes": None}, flags={"optedOut": False}))
    customers.create_customer(engine, CustomerIn(id="b", attributes={"age": 45, "country": "FR"}))
    found = by_path(customer_attributes(engine, fresh=True))
    kinds = {path: attribute.kind for path, attribute in found.items()}
    assert kinds == {
        "customer.address.city": "string", "customer.age": "number", "customer.country": "string",
        "customer.lastSeen": "date", "customer.score": "number", "customer.signupDate": "date",
        "customer.tags": "list", "customer.vip": "bool", "customer.id": "string", "customer.segments": "list",
        "customer.flags.optedOut": "bool",
    }
    assert found["customer.age"].seen == 2
    assert found["customer.country"].examples == ("DE", "FR")
    assert found["customer.tags"].examples == ("gold", "new")


def test_the_most_common_kind_wins_and_segments_list_their_ids(engine: Engine) -> None:
    for index, tier in enumerate([1, 2, "gold"]):
        customers.create_customer(engine, CustomerIn(id=f"c{index}", attributes={"tier": tier}))
    segments.create_segment(engine, SegmentIn(id="seg_vip", name="VIPs", rule="customer.tier == 2"))
    found = by_path(customer_attributes(engine, fresh=True))
    assert found["customer.tier"].kind == "number"
    assert found["customer.segments"].examples == ("seg_vip",)


def test_names_cel_cannot_reach_with_a_dot_are_left_out(engine: Engine) -> None:
    customers.create_customer(engine, CustomerIn(id="a", attributes={"first name": "Ann", "2fa": True,
                                                                     "ok": 1}))
    paths = {attribute.path for attribute in customer_attributes(engine, fresh=True)}
    assert "customer.ok" in paths
    assert not any("first name" in path or "2fa" in path for path in paths)


def test_the_scan_reads_a_bounded_sample(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attributes, "SAMPLE", 5)
    for index in range(8):
        customers.create_customer(engine, CustomerIn(id=f"c{index}", attributes={f"only{index}": index}))
    found = customer_attributes(engine, fresh=True)
    assert len([a for a in found if a.path.startswith("customer.only")]) == 5
    assert by_path(found)["customer.id"].seen == 5


def test_the_answer_is_cached_briefly(engine: Engine, clock: VirtualClock) -> None:
    customers.create_customer(engine, CustomerIn(id="a", attributes={"age": 3}))
    assert "customer.age" in by_path(customer_attributes(engine, fresh=True))
    customers.update_customer(engine, "a", CustomerUpdate(attributes={"city": "Rome"}))
    assert "customer.city" not in by_path(customer_attributes(engine))  # still the cached answer
    clock.advance(attributes.TTL + timedelta(seconds=1))
    assert "customer.city" in by_path(customer_attributes(engine))


def test_kinds_of_single_values() -> None:
    values = (None, True, 3, 2.5, [1], {"a": 1}, "x", "2026-01-05", "2026-01-05 09:00")
    assert [kind_of(value) for value in values] == [
        None, "bool", "number", "number", "list", "map", "string", "date", "date"]
