"""Rule segments follow attribute changes; every join/leave is logged and announced."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from engine import signals
from engine.audience import customer_import, customers, segments
from engine.engine import Engine
from engine.errors import Conflict, Invalid, NotFound
from models.audience import CustomerIn, CustomerUpdate, SegmentIn, SegmentUpdate
from models.journey import UpdateOperation


@pytest.fixture
def heard(engine: Engine) -> Iterator[list[tuple[str, str, bool]]]:
    """Every membership change announced, in order."""
    heard: list[tuple[str, str, bool]] = []

    def receiver(session: Any, changes: list[tuple[str, str, bool]], now: Any, **_: Any) -> None:
        assert session is not None and now is not None
        heard.extend(changes)

    signals.segment_membership_changed.connect(receiver)
    yield heard
    signals.segment_membership_changed.disconnect(receiver)


def _changes(engine: Engine, segment_id: str) -> list[tuple[str, bool]]:
    page = segments.list_changes(engine, segment_id, limit=200)
    return [(item["customerId"], item["joined"]) for item in reversed(page["data"])]


def test_rule_membership_follows_attribute_changes(
        engine: Engine, heard: list[tuple[str, str, bool]]) -> None:
    segments.create_segment(engine, SegmentIn(id="gold", name="Gold", rule="customer.tier == 'gold'"))
    customers.create_customer(engine, CustomerIn(id="c1", attributes={"tier": "gold"}))
    customers.create_customer(engine, CustomerIn(id="c2", attributes={"tier": "silver"}))
    assert segments.member_count(engine, "gold") == 1

    customers.update_customer(engine, "c2", CustomerUpdate(attributes={"tier": "gold"}))
    customers.update_customer(engine, "c1", CustomerUpdate(attributes={"tier": None}))

    assert [m["customerId"] for m in segments.list_members(engine, "gold")["data"]] == ["c2"]
    assert _changes(engine, "gold") == [("c1", True), ("c2", True), ("c1", False)]
    assert heard == [("c1", "gold", True), ("c2", "gold", True), ("c1", "gold", False)]
    assert customers.get_customer(engine, "c2")["segments"] == ["gold"]


def test_new_rule_segment_includes_existing_customers_and_rule_change_reevaluates(
        engine: Engine, heard: list[tuple[str, str, bool]]) -> None:
    lines = (json.dumps({"id": f"c{index:04d}", "age": index % 100}) for index in range(1200))
    customer_import.import_customers(engine, "\n".join(lines), "jsonl")  # more than one re-evaluation batch
    segments.create_segment(engine, SegmentIn(id="adults", name="Adults", rule="customer.age >= 18"))
    assert segments.member_count(engine, "adults") == 1200 - 12 * 18

    segments.update_segment(engine, "adults", SegmentUpdate(rule="customer.age >= 90"))

    assert segments.member_count(engine, "adults") == 12 * 10
    assert sum(1 for _c, s, joined in heard if s == "adults" and not joined) == 1200 - 12 * 18 - 120


def test_rule_error_means_not_a_member(engine: Engine) -> None:
    segments.create_segment(engine, SegmentIn(id="big", name="Big spenders", rule="customer.spend > 100"))
    customers.create_customer(engine, CustomerIn(id="c1", attributes={}))
    customers.create_customer(engine, CustomerIn(id="c2", attributes={"spend": 500}))
    assert [m["customerId"] for m in segments.list_members(engine, "big")["data"]] == ["c2"]


def test_invalid_rule_is_rejected_naming_rule(engine: Engine) -> None:
    with pytest.raises(Invalid) as raised:
        segments.create_segment(engine, SegmentIn(name="Broken", rule="customer.age >>> 3"))
    assert raised.value.details["field"] == "rule"
    segments.create_segment(engine, SegmentIn(id="ok", name="Ok", rule="customer.age > 3"))
    with pytest.raises(Invalid):
        segments.update_segment(engine, "ok", SegmentUpdate(rule="(("))


def test_static_segment_add_remove_logs_and_announces(
        engine: Engine, heard: list[tuple[str, str, bool]]) -> None:
    segments.create_segment(engine, SegmentIn(id="vip", name="VIP", static=True))
    customers.create_customer(engine, CustomerIn(id="c1"))
    customers.create_customer(engine, CustomerIn(id="c2"))

    result = segments.change_members(engine, "vip", ["c1", "c2", "c1"], [])
    assert result == {"added": 2, "removed": 0, "count": 2}
    assert segments.change_members(engine, "vip", ["c1"], ["c2"]) == {"added": 0, "removed": 1, "count": 1}

    assert _changes(engine, "vip") == [("c1", True), ("c2", True), ("c2", False)]
    assert heard == [("c1", "vip", True), ("c2", "vip", True), ("c2", "vip", False)]
    with pytest.raises(Invalid):
        segments.change_members(engine, "vip", ["nobody"], [])


def test_rule_segment_refuses_explicit_members(engine: Engine) -> None:
    segments.create_segment(engine, SegmentIn(id="gold", name="Gold", rule="customer.tier == 'gold'"))
    customers.create_customer(engine, CustomerIn(id="c1"))
    with pytest.raises(Conflict):
        segments.change_members(engine, "gold", ["c1"], [])


def test_update_operations_change_attributes_segments_and_flags(
        engine: Engine, heard: list[tuple[str, str, bool]]) -> None:
    segments.create_segment(engine, SegmentIn(id="engaged", name="Engaged", rule="customer.visits >= 2"))
    segments.create_segment(engine, SegmentIn(id="vip", name="VIP", static=True))
    customers.create_customer(engine, CustomerIn(id="c1", attributes={"visits": 1, "old": True}))
    operations = [
        UpdateOperation(op="increment", attribute="visits"),
        UpdateOperation(op="set", attribute="tier", value="gold"),
        UpdateOperation(op="unset", attribute="old"),
        UpdateOperation(op="addSegment", segment_id="vip"),
        UpdateOperation(op="setFlag", flag="contacted"),
    ]
    with engine.unit_of_work() as uow:
        view = customers.apply_operations(uow, "c1", operations, engine.now())

    assert view == {"id": "c1", "visits": 2, "tier": "gold", "segments": ["engaged", "vip"],
                    "flags": {"contacted": True}}
    assert sorted(heard) == [("c1", "engaged", True), ("c1", "vip", True)]
    with engine.session() as s:
        assert customers.customer_view(s, "c1") == view


def test_update_operations_are_rolled_back_with_the_callers_transaction(engine: Engine) -> None:
    customers.create_customer(engine, CustomerIn(id="c1", attributes={"visits": 1}))
    with pytest.raises(RuntimeError), engine.unit_of_work() as uow:
        customers.apply_operations(uow, "c1", [UpdateOperation(op="set", attribute="visits", value=9)],
                                   engine.now())
        raise RuntimeError("the step batch failed")
    assert customers.get_customer(engine, "c1")["attributes"] == {"visits": 1}


def test_increment_of_text_is_invalid(engine: Engine) -> None:
    customers.create_customer(engine, CustomerIn(id="c1", attributes={"name": "Ada"}))
    with pytest.raises(Invalid) as raised, engine.unit_of_work() as uow:
        customers.apply_operations(
            uow, "c1", [UpdateOperation(op="increment", attribute="name", value=1)], engine.now())
    assert raised.value.details["field"] == "operations.0.value"


def test_member_ids_pages_by_keyset(engine: Engine) -> None:
    segments.create_segment(engine, SegmentIn(id="all", name="All", rule="true"))
    for index in range(5):
        customers.create_customer(engine, CustomerIn(id=f"c{index}"))
    with engine.session() as s:
        first = segments.member_ids(s, "all", None, 2)
        second = segments.member_ids(s, "all", first[-1], 2)
        third = segments.member_ids(s, "all", second[-1], 2)
    assert (first, second, third) == (["c0", "c1"], ["c2", "c3"], ["c4"])


def test_deleting_a_customer_leaves_its_segments(engine: Engine) -> None:
    segments.create_segment(engine, SegmentIn(id="all", name="All", rule="true"))
    customers.create_customer(engine, CustomerIn(id="c1"))
    customers.delete_customer(engine, "c1")
    assert segments.member_count(engine, "all") == 0
    # The change log keeps the join and the leave, under the erasure's pseudonym rather than the id.
    changes = _changes(engine, "all")
    assert [joined for _customer, joined in changes] == [True, False]
    assert "c1" not in {customer for customer, _joined in changes}


def test_rule_segments_see_static_changes_of_the_same_update(
        engine: Engine, heard: list[tuple[str, str, bool]]) -> None:
    segments.create_segment(engine, SegmentIn(id="vip", name="VIP", static=True))
    segments.create_segment(engine, SegmentIn(id="vip_de", name="VIP in DE",
                                      rule="'vip' in customer.segments && customer.country == 'DE'"))
    customers.create_customer(engine, CustomerIn(id="c1", attributes={"country": "DE"}))
    remove, add = (UpdateOperation(op="removeSegment", segment_id="vip"),
                   UpdateOperation(op="addSegment", segment_id="vip"))
    with engine.unit_of_work() as uow:
        view = customers.apply_operations(uow, "c1", [remove, add], engine.now())
    assert view["segments"] == ["vip", "vip_de"]
    assert heard == [("c1", "vip", True), ("c1", "vip_de", True)]
    with engine.unit_of_work() as uow:
        view = customers.apply_operations(uow, "c1", [remove], engine.now())
    assert view["segments"] == []


def test_update_operations_refuse_rule_and_unknown_segments(engine: Engine) -> None:
    segments.create_segment(engine, SegmentIn(id="gold", name="Gold", rule="customer.tier == 'gold'"))
    customers.create_customer(engine, CustomerIn(id="c1"))
    with pytest.raises(Conflict), engine.unit_of_work() as uow:
        customers.apply_operations(
            uow, "c1", [UpdateOperation(op="addSegment", segment_id="gold")], engine.now())
    with pytest.raises(NotFound) as raised, engine.unit_of_work() as uow:
        customers.apply_operations(uow, "c1", [UpdateOperation(op="set", attribute="a", value=1),
                                                     UpdateOperation(op="addSegment", segment_id="ghost")],
                                   engine.now())
    assert raised.value.details == {"field": "operations.1.segmentId"}
