"""decide: run the decision flow for this customer and keep the ranked offers under `storeResultAs`."""

from __future__ import annotations

from typing import Any

from engine.decisioning import decisions
from engine.runtime.steps.base import Run, StepResult
from models.journey import DecideStep

WRITES_DB = False  # reads the session's catalogue and the batch's contact-policy counts
# How many filter-trace entries the history keeps (the full trace is available from /recommend).
TRACE_LIMIT = 20


def execute(step: DecideStep, run: Run) -> StepResult:
    config = step.config
    if not config.decision_flow_id:
        raise ValueError("decide step has no decisionFlowId")
    decision = decisions.decide(
        run.session, run.customer(), config.decision_flow_id, config.max_offers, run.now
    )
    offers: list[dict[str, Any]] = [
        {"offerId": offer.offer_id, "name": offer.name, "score": offer.score, "factors": offer.factors}
        for offer in decision.offers
    ]
    name = config.store_result_as or step.id
    run.results[name] = offers
    # The send step reads the flow's contact policy through this.
    run.context.setdefault("flows", {})[name] = config.decision_flow_id
    detail = {
        "decisionFlowId": config.decision_flow_id,
        "storedAs": name,
        "offers": [offer["offerId"] for offer in offers],
        "filtered": decision.filtered,
        "trace": decision.head(TRACE_LIMIT),
    }
    return StepResult("offers" if offers else "no_offers", step.next, detail)
