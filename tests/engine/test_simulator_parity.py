"""A test run takes the path the live runner takes: the same event view (customerId included) and the same
decide result reach the same branch conditions."""

from __future__ import annotations

from typing import Any

from engine.audience import events
from engine.engine import Engine
from engine.runtime import enrollments, runner
from engine.runtime.simulator import simulate
from models.audience import EventIn
from tests.engine.test_runtime import exit_step, make_customers, make_journey, state
from tests.engine.test_simulator_trace import seed_catalogue

PICK = {"id": "pick", "type": "decide", "name": "Pick offer", "next": "who",
        "config": {"decisionFlowId": "dfl_main", "maxOffers": 1, "storeResultAs": "best"}}


def route(expression: str) -> dict[str, Any]:
    return {"id": "who", "type": "branch", "name": "Who?",
            "config": {"conditions": [{"label": "matched", "expression": expression, "targetStepId": "yes"}],
                       "defaultStepId": "no"}}


def live_and_simulated(engine: Engine, expression: str) -> tuple[list[str], list[str]]:
    """The steps an enrollment entering on a signup event runs, live and in a test run of the same journey."""
    steps = [PICK, route(expression), exit_step("yes", "matched"), exit_step("no", "other")]
    journey_id = make_journey(engine, steps, entryConditions={"eventType": "signup"})
    events.accept(engine, [EventIn(customerId="c1", type="signup", properties={"plan": "pro"})])
    runner.run_due(engine)
    [row] = enrollments.list_enrollments(engine, journey_id=journey_id)["data"]
    live = [item["stepId"] for item in state(engine, row["id"])["history"]]
    simulated = simulate(engine, journey_id=journey_id, customer_id="c1",
                         events=[{"type": "signup", "afterMinutes": 0, "properties": {"plan": "pro"}}])
    return live, [item["stepId"] for item in simulated["trace"]]


def test_a_branch_on_the_event_customer_takes_the_live_path_in_a_test_run(engine: Engine) -> None:
    make_customers(engine, "c1")
    seed_catalogue(engine)
    live, simulated = live_and_simulated(engine, "event.customerId == 'c1'")
    assert live == ["pick", "who", "yes"]
    assert simulated == live


def test_a_branch_on_a_decide_result_takes_the_live_path_in_a_test_run(engine: Engine) -> None:
    make_customers(engine, "c1")
    seed_catalogue(engine)
    chose_the_sale = "size(best) == 1 && best[0].offerId == 'off_sale' && best[0].score > 0"
    live, simulated = live_and_simulated(engine, f"{chose_the_sale} && event.properties.plan == 'pro'")
    assert live == ["pick", "who", "yes"]
    assert simulated == live
