"""Decision-flow rules and offer eligibility made with the condition builder; candidates picked by name."""

from __future__ import annotations

from typing import Any

from nicegui.testing import User

from engine.audience import customers
from engine.decisioning import offers
from engine.engine import Engine
from models.audience import CustomerIn
from models.offers import DecisionFlowIn, OfferIn


def element(user: User, marker: str) -> Any:
    return next(iter(user.find(marker=marker).elements))


def set_value(user: User, marker: str, value: Any) -> None:
    with user.client:
        element(user, marker).value = value


def seed(engine: Engine) -> None:
    customers.create_customer(engine, CustomerIn(id="ann", attributes={"age": 31, "vip": True}))
    offers.create_offer(engine, OfferIn(id="tea", name="Green tea", category="drinks"))
    offers.create_offer(engine, OfferIn(id="cake", name="Cake", category="food"))
    offers.create_decision_flow(engine, DecisionFlowIn(
        id="menu", name="Menu", offer_ids=["tea"], categories=["food"],
        rules=["customer.age >= 18",
               {"name": "VIP boost", "expression": "customer.vip == true", "relevance": 3},
               "size(customer.segments) > 0 || customer.age > 60"]))


async def test_stored_rules_open_as_rows_by_kind(engine: Engine, user: User) -> None:
    seed(engine)
    await user.open("/decision-flows/menu")
    await user.should_see(marker="rule-0")
    assert element(user, "rule-0-kind").value == "require"
    assert element(user, "rule-0-row-0-attribute").value == "customer.age"
    assert element(user, "rule-0-row-0-operator").value == ">="
    assert element(user, "rule-0-row-0-value").value == "18"
    assert element(user, "rule-1-kind").value == "boost"
    assert element(user, "rule-1-name").value == "VIP boost"
    assert element(user, "rule-1-relevance").value == 3
    assert element(user, "rule-1-row-0-operator").value == "true"
    assert element(user, "rule-2-mode").value == "cel"  # hand-written: raw, untouched
    assert element(user, "flow-offers").options["tea"] == "Green tea (tea)"
    assert set(element(user, "flow-categories").options) == {"drinks", "food"}
    assert "offer.category" in element(user, "rule-0-row-0-attribute").options


async def test_rules_built_in_rows_are_saved_as_the_flow_stores_them(engine: Engine, user: User) -> None:
    seed(engine)
    await user.open("/decision-flows/menu")
    await user.should_see(marker="rule-0")
    user.find(marker="rule-2-remove").click()
    user.find(marker="add-rule").click()
    set_value(user, "rule-2-row-0-attribute", "offer.category")
    set_value(user, "rule-2-row-0-value", "food")
    set_value(user, "rule-2-kind", "boost")
    set_value(user, "rule-2-relevance", 1.5)
    set_value(user, "rule-0-kind", "boost")  # boosting without a factor given yet: twice
    user.find(marker="add-rule").click()  # a rule left without a condition is not stored
    set_value(user, "flow-categories", ["food", "desserts"])
    user.find(marker="save-flow").click()
    await user.should_see("Saved")
    flow = offers.get_decision_flow(engine, "menu")
    assert flow["rules"] == [
        {"expression": "customer.age >= 18", "relevance": 2.0},
        {"name": "VIP boost", "expression": "customer.vip == true", "relevance": 3.0},
        {"expression": "offer.category == 'food'", "relevance": 1.5},
    ]
    assert flow["categories"] == ["food", "desserts"]


async def test_offer_eligibility_is_built_from_customer_attributes(engine: Engine, user: User) -> None:
    seed(engine)
    await user.open("/offers")
    user.find(marker="new-offer").click()
    user.find(marker="offer-id").type("wine")
    user.find(marker="offer-name").type("Wine")
    set_value(user, "offer-eligibility-row-0-attribute", "customer.age")
    set_value(user, "offer-eligibility-row-0-operator", ">=")
    set_value(user, "offer-eligibility-row-0-value", "18")
    user.find(marker="save-offer").click()
    await user.should_see("Saved Wine")
    assert offers.get_offer(engine, "wine")["eligibility"] == "customer.age >= 18"
    user.find(marker="new-offer").click()  # the next offer starts from an empty condition
    assert not element(user, "offer-eligibility-row-0-attribute").value
    assert element(user, "offer-eligibility-mode").value == "builder"
