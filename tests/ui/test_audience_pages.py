"""Customers, segments, offers and decision-flow pages, driven through NiceGUI's simulated user."""

from __future__ import annotations

import asyncio
from typing import Any

from nicegui import ui
from nicegui.testing import User

from engine.audience import customers, segments
from engine.decisioning import offers
from engine.engine import Engine
from engine.journeys import lifecycle
from models.audience import CustomerIn, SegmentIn
from models.journey import JourneyCreate
from models.offers import DecisionFlowIn, OfferIn


def _set(user: User, marker: str, value: Any) -> None:
    with user.client:
        for element in user.find(marker=marker).elements:
            element.value = value


def _table_rows(user: User, marker: str) -> list[dict[str, Any]]:
    tables = [element for element in user.find(marker=marker).elements if isinstance(element, ui.table)]
    assert len(tables) == 1
    return tables[0].rows


async def _rows_become(user: User, marker: str, key: str, expected: list[Any]) -> None:
    """Tables refresh off the event loop: wait (up to 5 s) until the column `key` starts with `expected`."""
    for _ in range(100):
        if [row[key] for row in _table_rows(user, marker)][:len(expected)] == expected:
            return
        await asyncio.sleep(0.05)
    assert [row[key] for row in _table_rows(user, marker)][:len(expected)] == expected


async def test_customer_list_searches_and_pages(engine: Engine, user: User) -> None:
    for n in range(30):
        city = "Berlin" if n % 3 else "Rome"
        customers.create_customer(engine, CustomerIn(id=f"c{n:02d}", attributes={"city": city}))
    await user.open("/customers")
    await user.should_see("30 customers")
    assert len(_table_rows(user, "customers-table")) == 25

    user.find(marker="customer-search").type("rome")
    await user.should_see("10 customers")
    assert [row["id"] for row in _table_rows(user, "customers-table")][:3] == ["c00", "c03", "c06"]


async def test_customer_detail_shows_attributes_and_segments(engine: Engine, user: User) -> None:
    segments.create_segment(engine, SegmentIn(id="gold", name="Gold members", rule="customer.tier == 'gold'"))
    customers.create_customer(engine, CustomerIn(id="ada", attributes={"tier": "gold", "age": 36}))
    await user.open("/customers/ada")
    await user.should_see("Gold members")
    assert {row["key"]: row["value"] for row in _table_rows(user, "attributes-table")} == {
        "age": "36", "tier": "gold"}  # values as read, not quoted JSON (issue 13)


async def test_create_customer_dialog_reports_bad_json(engine: Engine, user: User) -> None:
    await user.open("/customers")
    user.find(marker="new-customer").click()
    user.find(marker="new-customer-id").type("zed")
    user.find(marker="new-customer-attributes").clear().type("{broken")
    user.find(marker="create-customer").click()
    await user.should_see("Expecting property name")
    user.find(marker="new-customer-attributes").clear().type('{"tier": "gold"}')
    user.find(marker="create-customer").click()
    await user.should_see("Created zed")
    assert customers.get_customer(engine, "zed")["attributes"] == {"tier": "gold"}


async def test_create_rule_segment_shows_its_members(engine: Engine, user: User) -> None:
    customers.create_customer(engine, CustomerIn(id="a", attributes={"age": 40}))
    customers.create_customer(engine, CustomerIn(id="b", attributes={"age": 12}))
    await user.open("/segments")
    user.find(marker="new-segment").click()
    user.find(marker="segment-name").type("Adults")
    user.find(marker="segment-id").type("adults")
    user.find(marker="segment-rule").type("customer.age >=")
    user.find(marker="create-segment").click()
    await user.should_see("rule:")
    user.find(marker="segment-rule").type(" 18")
    user.find(marker="create-segment").click()
    await user.should_see("Created Adults with 1 members")
    await _rows_become(user, "segments-table", "id", ["adults"])
    assert [(row["id"], row["members"]) for row in _table_rows(user, "segments-table")] == [("adults", 1)]

    await user.open("/segments/adults")
    assert [row["customerId"] for row in _table_rows(user, "members-table")] == ["a"]
    user.find(marker="rule-input").clear().type("customer.age < 18")
    user.find(marker="save-rule").click()
    await user.should_see("membership re-evaluated")
    await _rows_become(user, "members-table", "customerId", ["b"])
    assert len(_table_rows(user, "members-table")) == 1
    await _rows_become(user, "changes-table", "customerId", ["b", "a"])
    assert [(row["customerId"], row["change"]) for row in _table_rows(user, "changes-table")][:2] == [
        ("b", "joined"), ("a", "left")]


async def test_static_segment_members_are_added_by_id(engine: Engine, user: User) -> None:
    customers.create_customer(engine, CustomerIn(id="a"))
    segments.create_segment(engine, SegmentIn(id="vip", name="VIP", static=True))
    await user.open("/segments/vip")
    user.find(marker="member-ids").type("a, ghost")
    user.find(marker="add-members").click()
    await user.should_see("unknown customer ghost")
    user.find(marker="member-ids").clear().type("a")
    user.find(marker="add-members").click()
    await user.should_see("1 added, 0 removed")
    assert [row["customerId"] for row in _table_rows(user, "members-table")] == ["a"]


async def test_offer_form_reports_invalid_cel_then_creates_and_edits(engine: Engine, user: User) -> None:
    await user.open("/offers")
    user.find(marker="new-offer").click()
    user.find(marker="offer-id").type("tea")
    user.find(marker="offer-name").type("Green tea")
    _set(user, "offer-eligibility-mode", "cel")  # the condition as raw CEL (the builder's switch)
    user.find(marker="offer-eligibility-cel").type("customer.age >")
    user.find(marker="save-offer").click()
    await user.should_see("eligibility:")
    user.find(marker="offer-eligibility-cel").clear().type("customer.age >= 18")
    user.find(marker="creative-in_app-body").type("Hello {{ customer.name }}")
    user.find(marker="save-offer").click()
    await user.should_see("Saved Green tea")
    await _rows_become(user, "offers-table", "id", ["tea"])
    creatives = offers.get_offer(engine, "tea")["creatives"]
    assert creatives == {"in_app": {"body": "Hello {{ customer.name }}"}}

    offers.create_offer(engine, OfferIn(id="cake", name="Cake", category="food"))
    user.find(marker="offer-search").type("food")
    await _rows_become(user, "offers-table", "id", ["cake"])
    assert len(_table_rows(user, "offers-table")) == 1


async def test_decision_flow_try_it_shows_ranked_offers_and_trace(engine: Engine, user: User) -> None:
    customers.create_customer(engine, CustomerIn(id="kid", attributes={"age": 12}))
    offers.create_offer(engine, OfferIn(id="beer", name="Beer", eligibility="customer.age >= 18"))
    offers.create_offer(engine, OfferIn(id="juice", name="Juice", propensity=0.8))
    offers.create_decision_flow(
        engine, DecisionFlowIn(id="drinks", name="Drinks", offer_ids=["beer", "juice"]))
    await user.open("/decision-flows/drinks")
    user.find(marker="try-customer").type("ghost")
    user.find(marker="try-run").click()
    await user.should_see("customer ghost not found")
    user.find(marker="try-customer").clear().type("kid")
    user.find(marker="try-run").click()
    await user.should_see("Dropped, and why")
    for _ in range(20):  # the decision runs off the event loop
        if _table_rows(user, "try-offers"):
            break
        await asyncio.sleep(0.05)
    assert [(row["name"], row["score"]) for row in _table_rows(user, "try-offers")] == [("Juice", "0.8000")]
    trace = [(row["offerId"], row["rule"]) for row in _table_rows(user, "try-trace")]
    assert trace == [("beer", "eligibility")]


async def test_decision_flow_editor_saves_and_reports_bad_rules(engine: Engine, user: User) -> None:
    offers.create_offer(engine, OfferIn(id="tea", name="Tea"))
    await user.open("/decision-flows")
    user.find(marker="new-flow").click()
    user.find(marker="flow-name").type("Hot drinks")
    user.find(marker="flow-id").type("hot")
    user.find(marker="create-flow").click()
    await user.should_see("Try it")
    user.find(marker="add-rule").click()
    _set(user, "rule-0-mode", "cel")
    user.find(marker="rule-0-cel").type("customer.age >")
    user.find(marker="save-flow").click()
    await user.should_see("rules.0:")
    user.find(marker="rule-0-cel").clear().type("customer.age > 3")
    user.find(marker="add-rule").click()
    _set(user, "rule-1-kind", "boost")
    _set(user, "rule-1-mode", "cel")
    user.find(marker="rule-1-cel").type("true")
    user.find(marker="save-flow").click()
    await user.should_see("Saved")
    assert offers.get_decision_flow(engine, "hot")["rules"] == [
        "customer.age > 3", {"expression": "true", "relevance": 2.0}]


async def test_customer_pager_shows_the_next_page(engine: Engine, user: User) -> None:
    for n in range(30):
        customers.create_customer(engine, CustomerIn(id=f"c{n:02d}", attributes={}))
    await user.open("/customers")
    await user.should_see("30 customers")
    [pager] = [element for element in user.find(ui.pagination).elements]
    assert pager.max == 2
    pager.set_value(2)
    for _ in range(50):  # the page is read off the event loop
        if len(_table_rows(user, "customers-table")) == 5:
            break
        await asyncio.sleep(0.02)
    assert [row["id"] for row in _table_rows(user, "customers-table")] == [f"c{n}" for n in range(25, 30)]


async def test_deleting_a_segment_a_journey_uses_is_refused_with_the_reason(
    engine: Engine, user: User
) -> None:
    segments.create_segment(engine, SegmentIn(id="vip", name="VIPs", static=True))
    lifecycle.create_journey(engine, JourneyCreate.model_validate(
        {"name": "VIP welcome", "entryConditions": {"segmentId": "vip"}, "steps": []}))
    await user.open("/segments/vip")
    user.find("Delete").click()
    user.find(marker="confirm-delete").click()
    await user.should_see("in use by")
    assert segments.get_segment(engine, "vip")["name"] == "VIPs"


async def test_an_unknown_segment_or_decision_flow_says_so_with_the_way_back(user: User) -> None:
    await user.open("/segments/nope")
    await user.should_see("segment nope not found")
    await user.should_see("All segments")
    await user.open("/decision-flows/nope")
    await user.should_see("decision flow nope not found")
    await user.should_see("All decision flows")
