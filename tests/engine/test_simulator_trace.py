"""The test run's trace explains itself: step names, the values each branch condition read, the offers a
decide step chose with their scores and how many were eligible, and why a failing run failed."""

from __future__ import annotations

from typing import Any

from engine.decisioning import offers
from engine.engine import Engine
from engine.runtime.simulator import simulate
from models.offers import DecisionFlowIn, OfferIn

PICK = {"id": "pick", "type": "decide", "name": "Pick offer", "next": "young",
        "config": {"decisionFlowId": "dfl_main", "maxOffers": 1, "storeResultAs": "best"}}
YOUNG = {"id": "young", "type": "branch", "name": "Young?",
         "config": {"conditions": [
             {"label": "rich", "expression": "customer.income > 100", "targetStepId": "done"},
             {"label": "yes", "expression": "customer.age < 30 && customer.country == 'DE'",
              "targetStepId": "done"}]}}
DONE = {"id": "done", "type": "exit", "name": "Done", "config": {"reason": "finished"}}


def run(engine: Engine, steps: list[dict[str, Any]], **attributes: Any) -> dict[str, Any]:
    return simulate(engine, document={"name": "Trace", "steps": steps}, customer_attributes=attributes)


def seed_catalogue(engine: Engine) -> None:
    catalogue = (("off_sale", "Summer sale", 10), ("off_tea", "Tea", 5), ("off_mug", "Mug", 1))
    for offer_id, name, value in catalogue:
        offers.create_offer(engine, OfferIn(id=offer_id, name=name, business_value=value))
    ids = [offer_id for offer_id, _, _ in catalogue]
    offers.create_decision_flow(engine, DecisionFlowIn(id="dfl_main", name="Main", offer_ids=ids))


def test_each_item_carries_the_step_name(engine: Engine) -> None:
    outcome = run(engine, [{**YOUNG, "config": {**YOUNG["config"], "defaultStepId": "done"}}, DONE], age=23)
    named = [(item["stepId"], item["name"]) for item in outcome["trace"]]
    assert named == [("young", "Young?"), ("done", "Done")]


def test_branch_conditions_show_their_expression_and_the_values_they_read(engine: Engine) -> None:
    outcome = run(engine, [YOUNG, DONE], age=23, country="DE")
    first, second = outcome["trace"][0]["detail"]["conditions"]
    assert first == {"label": "rich", "value": False, "expression": "customer.income > 100",
                     "values": {"customer.income": None}, "error": first["error"]}
    assert second["value"] is True
    assert second["values"] == {"customer.age": 23, "customer.country": "DE"}
    assert outcome["trace"][0]["detail"]["matched"] == "yes"


def test_decide_names_the_chosen_offer_with_its_score_and_the_eligible_count(engine: Engine) -> None:
    seed_catalogue(engine)
    young = {**YOUNG, "config": {**YOUNG["config"], "defaultStepId": "done"}}
    outcome = run(engine, [PICK, young, DONE], age=40)
    detail = outcome["trace"][0]["detail"]
    [chosen] = detail["chosen"]
    assert (chosen["offerId"], chosen["name"]) == ("off_sale", "Summer sale")
    assert 0 < chosen["score"] <= 1
    assert detail["eligible"] == 3
    assert (outcome["endedAs"], outcome["exitReason"]) == ("exited", "finished")


def test_a_failing_step_says_why(engine: Engine) -> None:
    outcome = run(engine, [
        {"id": "pick", "type": "decide", "name": "Pick", "config": {"storeResultAs": "best"}}])
    assert outcome["endedAs"] == "failed"
    assert "decisionFlowId" in outcome["error"]
