"""decide: run the decision flow for this customer and keep the ranked offers under `storeResultAs`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.decisioning import decisions
from engine.journeys.steps.base import (
    BUILTIN_NAMES,
    Checks,
    Detail,
    Run,
    Said,
    StepKind,
    StepResult,
    each,
    name_of,
    quoted,
)
from models.journey import DecideStep

# How many filter-trace entries the history keeps (the full trace is available from /recommend).
TRACE_LIMIT = 20
# Context key: result name -> the decision flow whose offers a decide step stored under it.
FLOWS = "flows"
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(slots=True)
class DecideDetail(Detail):
    """The offers kept (ids) and why others were not; a test run adds the `chosen` offers with names and
    scores and how many were `eligible`."""

    decision_flow_id: str | None
    stored_as: str | None
    offers: list[str] = field(default_factory=list)
    filtered: int = 0
    trace: list[dict[str, Any]] = field(default_factory=list)
    chosen: list[dict[str, Any]] | None = None
    eligible: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"decisionFlowId": self.decision_flow_id, "storedAs": self.stored_as,
                                "offers": self.offers, "filtered": self.filtered, "trace": self.trace}
        if self.chosen is not None:
            data.update(chosen=self.chosen, eligible=self.eligible)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DecideDetail:
        chosen = data.get("chosen")
        return cls(data.get("decisionFlowId"), data.get("storedAs"), list(data.get("offers") or []),
                   data.get("filtered") or 0, [dict(entry) for entry in each(data.get("trace"))],
                   [dict(offer) for offer in each(chosen)] if chosen is not None else None,
                   data.get("eligible"))


class Decide(StepKind):
    type = "decide"
    name = "Decide"
    schema = DecideStep
    detail = DecideDetail

    def stores(self, step: DecideStep) -> str | None:
        return step.config.store_result_as

    def check(self, step: DecideStep, checks: Checks) -> None:
        config = step.config
        if not config.decision_flow_id:
            checks.error("missing_config", "decide has no decision flow", step.id)
        elif config.decision_flow_id not in checks.refs.decision_flows:
            checks.error("unknown_reference", f"decision flow '{config.decision_flow_id}' does not exist",
                         step.id)
        name = config.store_result_as
        if not name:
            checks.error("missing_config", "decide has no storeResultAs name", step.id)
        elif not IDENTIFIER.match(name):
            checks.error("invalid_config",
                         f"storeResultAs '{name}' is not an identifier (letters, digits, _)", step.id)
        elif name in BUILTIN_NAMES:
            checks.error("invalid_config", f"storeResultAs '{name}' would hide the built-in variable",
                         step.id)

    def execute(self, step: DecideStep, run: Run) -> StepResult:
        config = step.config
        if not config.decision_flow_id:
            raise ValueError("decide step has no decisionFlowId")
        # Reads the unit of work's catalogue and the batch's contact-policy counts: no writes.
        decision = decisions.decide(run.uow, run.customer(), config.decision_flow_id, config.max_offers,
                                    run.now)
        offers: list[dict[str, Any]] = [
            {"offerId": offer.offer_id, "name": offer.name, "score": offer.score, "factors": offer.factors}
            for offer in decision.offers
        ]
        name = config.store_result_as or step.id
        run.results[name] = offers
        run.context.setdefault(FLOWS, {})[name] = config.decision_flow_id
        detail = DecideDetail(config.decision_flow_id, name, [offer["offerId"] for offer in offers],
                              decision.filtered, decision.head(TRACE_LIMIT))
        return StepResult("offers" if offers else "no_offers", step.next, detail)

    def explain(self, step: DecideStep, detail: DecideDetail, run: Run,
                seen: Mapping[str, dict[str, Any]]) -> DecideDetail:
        stored = run.results.get(detail.stored_as or "") or []
        chosen = [{"offerId": offer["offerId"], "name": offer.get("name"), "score": offer.get("score")}
                  for offer in stored]
        if [offer["offerId"] for offer in chosen] != detail.offers:
            return detail  # a later decide step stored under the same name: leave the ids as they are
        ranked_below = sum(1 for entry in detail.trace if entry.get("rule") == "maxOffers")
        return DecideDetail(detail.decision_flow_id, detail.stored_as, detail.offers, detail.filtered,
                            detail.trace, chosen, len(chosen) + ranked_below)

    def words(self, detail: DecideDetail, said: Said) -> str:
        chosen = detail.chosen or [{"name": name_of(said.refs.offers, offer)} for offer in detail.offers]
        if not chosen:
            return f"{said.label}: no offer qualified ({detail.filtered} filtered out)"
        picks = ", ".join(
            quoted(offer.get("name") or offer.get("offerId", ""))
            + (f" (score {offer['score']:.2g})" if isinstance(offer.get("score"), int | float) else "")
            for offer in chosen)
        eligible = f" of {detail.eligible} eligible" if detail.eligible else ""
        return f"{said.label}: chose {picks}{eligible}"


def decision_flow_of(run: Run, result_name: str) -> str | None:
    """The decision flow whose offers a decide step stored under `result_name`: a send of them applies that
    flow's contact policy (kept in the enrollment's context, as a wait may come between the two)."""
    flow_id = run.context.get(FLOWS, {}).get(result_name)
    return flow_id if isinstance(flow_id, str) else None


KIND = Decide()
