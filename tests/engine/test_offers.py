"""Offers and decision flows: expressions and templates are checked when written."""

from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import ValidationError

from engine.decisioning import offers
from engine.engine import Engine
from engine.errors import Conflict, Invalid, NotFound
from models.offers import Creative, DecisionFlowFields, DecisionFlowIn, OfferFields, OfferIn


@pytest.mark.parametrize(("fields", "field"), [
    ({"eligibility": "customer.age >"}, "eligibility"),
    ({"propensity": "customer.score *"}, "propensity"),
    ({"creatives": {"email": Creative(subject="Hi", body="{% if %}")}}, "creatives.email.body"),
    ({"start_date": datetime(2026, 2, 1), "end_date": datetime(2026, 1, 1)}, "endDate"),
])
def test_invalid_offer_names_the_field(engine: Engine, fields: dict, field: str) -> None:
    with pytest.raises(Invalid) as raised:
        offers.create_offer(engine, OfferIn(name="Bad", **fields))
    assert raised.value.details["field"] == field


def test_propensity_number_must_be_between_0_and_1() -> None:
    with pytest.raises(ValidationError):
        OfferIn(name="x", propensity=1.5)


def test_update_changes_only_the_fields_sent(engine: Engine) -> None:
    offers.create_offer(
        engine, OfferIn(id="o1", name="One", category="c", eligibility="true", propensity=0.3))
    updated = offers.update_offer(engine, "o1", OfferFields(name="Uno", eligibility=None))
    assert (updated["name"], updated["category"], updated["eligibility"], updated["propensity"]) == (
        "Uno", "c", None, 0.3)
    with pytest.raises(Invalid):
        offers.update_offer(engine, "o1", OfferFields(eligibility="(("))
    with pytest.raises(NotFound):
        offers.update_offer(engine, "nope", OfferFields(name="x"))


def test_decision_flow_checks_rules_and_offer_ids(engine: Engine) -> None:
    offers.create_offer(engine, OfferIn(id="o1", name="One"))
    with pytest.raises(Invalid) as raised:
        offers.create_decision_flow(engine, DecisionFlowIn(name="f", offer_ids=["o1", "ghost"]))
    assert raised.value.details["field"] == "offerIds"
    with pytest.raises(Invalid) as raised:
        offers.create_decision_flow(engine, DecisionFlowIn(name="f", rules=["true", "customer. =="]))
    assert raised.value.details["field"] == "rules.1"
    with pytest.raises(Invalid) as raised:
        offers.create_decision_flow(
            engine, DecisionFlowIn(name="f", rules=[{"expression": "((", "relevance": 2}]))
    assert raised.value.details["field"] == "rules.0.expression"

    flow = offers.create_decision_flow(engine, DecisionFlowIn(id="f", name="f", offer_ids=["o1"],
                                                      weights={"impact": 2}))
    assert flow["weights"] == {"propensity": 1.0, "relevance": 1.0, "impact": 2.0, "emphasis": 1.0}
    assert offers.update_decision_flow(engine, "f", DecisionFlowFields(max_offers=3))["maxOffers"] == 3


def test_an_offer_in_use_by_a_flow_cannot_be_deleted(engine: Engine) -> None:
    offers.create_offer(engine, OfferIn(id="o1", name="One"))
    offers.create_decision_flow(engine, DecisionFlowIn(id="f", name="f", offer_ids=["o1"]))
    with pytest.raises(Conflict):
        offers.delete_offer(engine, "o1")
    offers.delete_decision_flow(engine, "f")
    offers.delete_offer(engine, "o1")
    with pytest.raises(NotFound):
        offers.get_offer(engine, "o1")
