"""The condition builder: attributes customers actually have, operators per type, typed CEL, and back."""

from __future__ import annotations

from typing import Any

from nicegui.testing import User

from engine.audience import customers
from engine.engine import Engine
from engine.journeys import lifecycle
from models.audience import CustomerIn
from models.journey import JourneyCreate
from ui.components.conditions import COMPARE, MEMBER, TEXT, TRUTH, Row, from_cel, operators_for, to_cel

KINDS = {"customer.age": "number", "customer.country": "string", "customer.vip": "bool",
         "customer.tags": "list", "customer.signupDate": "date"}
BRANCH = [
    {"id": "route", "type": "branch", "name": "Route", "position": {"x": 340, "y": 80},
     "config": {"conditions": [{"label": "Adults", "expression": "customer.age >= 18",
                                "targetStepId": "bye"}], "defaultStepId": "bye"}},
    {"id": "bye", "type": "exit", "name": "Bye", "config": {"reason": "done"},
     "position": {"x": 640, "y": 80}},
]


# ---- rows and CEL -------------------------------------------------------------------------------------


def test_each_type_offers_its_own_operators() -> None:
    assert operators_for("number") == COMPARE
    assert operators_for("string") == TEXT
    assert operators_for("bool") == TRUTH
    assert operators_for("list") == MEMBER
    assert {"==", "contains", "has", "true"} <= set(operators_for(None))  # a typed-in attribute: all of them


def test_values_are_written_as_literals_of_the_attributes_type() -> None:
    rows = [Row("customer.age", ">=", "30"), Row("customer.country", "==", "30"), Row("customer.vip", "true"),
            Row("customer.tags", "has", "gold"), Row("customer.country", "in", "DE, AT"),
            Row("customer.country", "startsWith", "D"), Row("customer.signupDate", "<", "2026-01-01")]
    expression = to_cel(rows, KINDS)
    assert expression == (
        "customer.age >= 30 && customer.country == '30' && customer.vip == true && 'gold' in customer.tags"
        " && customer.country in ['DE', 'AT'] && customer.country.startsWith('D')"
        " && customer.signupDate < '2026-01-01'")
    assert from_cel(expression, KINDS) == rows


def test_cel_the_rows_cannot_show_without_changing_it_stays_raw() -> None:
    assert from_cel("customer.age >= 18 || customer.vip == true", KINDS) is None
    assert from_cel("size(customer.tags) > 2", KINDS) is None
    assert from_cel("customer.age == '30'", KINDS) is None  # rows would write 30, a different condition
    assert from_cel("customer.age>=18", KINDS) == [Row("customer.age", ">=", "18")]  # spacing does not matter
    assert from_cel("customer.note == 'a && b'", KINDS) == [Row("customer.note", "==", "a && b")]


# ---- in the editor ------------------------------------------------------------------------------------


def element(user: User, marker: str) -> Any:
    return next(iter(user.find(marker=marker).elements))


def set_value(user: User, marker: str, value: Any) -> None:
    with user.client:
        element(user, marker).value = value


async def open_branch(engine: Engine, user: User, steps: list[dict[str, Any]] | None = None) -> str:
    customers.create_customer(engine, CustomerIn(id="ann", attributes={
        "age": 31, "country": "DE", "vip": True, "tags": ["gold"], "signupDate": "2025-03-01"}))
    customers.create_customer(
        engine, CustomerIn(id="bob", attributes={"age": 17, "country": "FR", "tags": []}))
    journey_id = lifecycle.create_journey(engine, JourneyCreate.model_validate({"name": "Routes",
                                                                        "steps": steps or BRANCH})).id
    await user.open(f"/journeys/{journey_id}")
    user.find(marker="canvas").trigger("selection", {"ids": ["route"]})
    await user.should_see(marker="condition-0-mode")
    return journey_id


async def test_the_attribute_select_lists_what_customers_have_with_types(engine: Engine, user: User) -> None:
    await open_branch(engine, user)
    labels = element(user, "condition-0-row-0-attribute").options
    assert labels["customer.age"] == "age · number"
    assert labels["customer.tags"] == "tags · list"
    assert labels["customer.signupDate"] == "signupDate · date"
    assert labels["outcome"] == "outcome · string"
    assert {"customer.id", "customer.segments", "outcome"} <= set(labels)
    assert element(user, "condition-0-row-0-attribute").value == "customer.age"
    operators = set(element(user, "condition-0-row-0-operator").options)
    assert operators == set(COMPARE)


async def test_picking_attributes_changes_operators_and_writes_typed_cel(engine: Engine, user: User) -> None:
    journey_id = await open_branch(engine, user)
    set_value(user, "condition-0-row-0-attribute", "customer.country")
    operators = set(element(user, "condition-0-row-0-operator").options)
    assert operators == set(TEXT)
    assert "DE" in element(user, "condition-0-row-0-value").props["_autocomplete"]
    set_value(user, "condition-0-row-0-value", "30")
    assert element(user, "condition-0-preview").text == "customer.country == '30'"
    user.find(marker="condition-0-add-row").click()
    set_value(user, "condition-0-row-1-attribute", "customer.vip")
    assert element(user, "condition-0-row-1-operator").value == "true"
    user.find(marker="condition-0-add-row").click()
    set_value(user, "condition-0-row-2-attribute", "customer.tags")
    set_value(user, "condition-0-row-2-value", "gold")
    expected = "customer.country == '30' && customer.vip == true && 'gold' in customer.tags"
    assert element(user, "condition-0-preview").text == expected
    await user.should_see("✓ valid CEL")
    user.find(marker="save").click()
    await user.should_see("All changes saved")
    saved = lifecycle.get_journey(engine, journey_id).steps[0]["config"]["conditions"][0]["expression"]
    assert saved == expected


async def test_a_number_attribute_flags_a_value_that_is_not_a_number(engine: Engine, user: User) -> None:
    await open_branch(engine, user)
    set_value(user, "condition-0-row-0-value", "lots")
    assert element(user, "condition-0-row-0-value").props.get("error-message") == "Enter a number"
    set_value(user, "condition-0-row-0-value", "21")
    assert not element(user, "condition-0-row-0-value").props.get("error")


async def test_hand_written_cel_opens_raw_and_the_switch_keeps_it(engine: Engine, user: User) -> None:
    steps = [dict(BRANCH[0], config={"conditions": [
        {"label": "Big", "expression": "size(customer.tags) > 2 || customer.vip", "targetStepId": "bye"}]}),
        BRANCH[1]]
    await open_branch(engine, user, steps)
    assert element(user, "condition-0-mode").value == "cel"
    assert element(user, "condition-0-cel").value == "size(customer.tags) > 2 || customer.vip"
    set_value(user, "condition-0-mode", "builder")  # cannot be rows: stays raw, nothing lost
    assert element(user, "condition-0-mode").value == "cel"
    set_value(user, "condition-0-cel", "customer.age < 65")
    set_value(user, "condition-0-mode", "builder")
    assert element(user, "condition-0-row-0-operator").value == "<"
    assert element(user, "condition-0-row-0-value").value == "65"
