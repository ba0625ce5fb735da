"""Next-best-offer decisions: candidates → eligibility → qualification rules → contact policy → PRIE ranking.

Every offer that does not make it is named in the trace with the rule that dropped it.

- Candidates: the flow's `offerIds` plus every offer in its `categories` (neither given: every offer); only
  `active` offers inside their start/end dates go on.
- `rules`: a CEL string is a qualification rule (false or error drops the offer). An object
  `{"expression", "relevance", "name"}` with a `relevance` multiplies the offer's relevance by that number
  when the expression is true (and does nothing when false); without `relevance` it is a qualification rule.
- Contact policy (engine.decisioning.contact_policy, the outbox's too), counted from the delivery log
  (queued or sent):
  `maxPerOffer` sends of one offer within the last `windowDays` days, and `maxPerDay` sends of anything in
  the last 24 hours.
- PRIE score = propensity^Wp * relevance^Wr * impact^Wi * emphasis^We, impact = businessValue / the largest
  businessValue among the offers being scored, emphasis = priority. A factor ≤ 0 eliminates the offer.
  Ties: higher priority first, then offer id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlmodel import Session

from engine.audience.customers import customer_view
from engine.core import now as current_time
from engine.core import session as open_session
from engine.decisioning import contact_policy as policies
from engine.errors import NotFound
from engine.expressions import ExpressionError, evaluate, is_true, names
from engine.records import fetch
from models.common import iso
from models.offers import DecisionFlow, Offer

FACTORS = ("propensity", "relevance", "impact", "emphasis")


@dataclass
class RankedOffer:
    offer_id: str
    name: str
    score: float
    factors: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"offerId": self.offer_id, "name": self.name, "score": self.score, "factors": self.factors}


@dataclass
class Decision:
    offers: list[RankedOffer] = field(default_factory=list)
    trace: list[dict[str, Any]] = field(default_factory=list)

    def drop(self, offer_id: str, rule: str, reason: str) -> None:
        self.trace.append({"offerId": offer_id, "rule": rule, "reason": reason})

    def to_dict(self) -> dict[str, Any]:
        """The wire shape of `POST /recommend`."""
        return {"offers": [offer.to_dict() for offer in self.offers], "trace": self.trace}


@dataclass
class _Scored:
    offer: Offer
    propensity: float
    relevance: float


def decide(session: Session, customer: dict[str, Any], flow_id: str, limit: int | None,
           now: datetime) -> Decision:
    """Rank the flow's offers for `customer` (a customer view); `limit` defaults to the flow's maxOffers."""
    flow = fetch(session, DecisionFlow, flow_id, "decision flow")
    decision = Decision()
    offers = _candidates(session, flow, now, decision)
    offers = _contact_policy(session, customer["id"], flow.contact_policy or {}, offers, now, decision)
    evaluator = _Evaluator(customer, now)
    qualified = (_qualify(offer, flow.rules or [], evaluator, decision) for offer in offers)
    scored = [entry for entry in qualified if entry is not None]
    ranked = _rank(scored, flow.weights or {}, decision)
    cut = limit or flow.max_offers or 1
    for position, offer in enumerate(ranked[cut:], start=cut + 1):
        decision.drop(offer.offer_id, "maxOffers", f"ranked #{position}, only {cut} returned")
    decision.offers = ranked[:cut]
    return decision


def recommend(customer_id: str, flow_id: str, limit: int | None = None) -> dict[str, Any]:
    """`POST /recommend`: decide for a stored customer (unknown customer or flow → NotFound)."""
    with open_session() as s:
        customer = customer_view(s, customer_id)
        if customer is None:
            raise NotFound(f"customer {customer_id} not found", {"field": "customerId"})
        return decide(s, customer, flow_id, limit, current_time()).to_dict()


def offer_variables(offer: Offer) -> dict[str, Any]:
    """What CEL sees as `offer`."""
    values: dict[str, Any] = {"id": offer.id, "name": offer.name, "description": offer.description,
                              "category": offer.category, "status": offer.status,
                              "businessValue": float(offer.business_value), "priority": float(offer.priority)}
    if isinstance(offer.propensity, int | float) and not isinstance(offer.propensity, bool):
        values["propensity"] = float(offer.propensity)
    if offer.start_date:
        values["startDate"] = offer.start_date
    if offer.end_date:
        values["endDate"] = offer.end_date
    return values


def _candidates(session: Session, flow: DecisionFlow, now: datetime, decision: Decision) -> list[Offer]:
    statement = select(Offer).order_by(Offer.id)
    wanted_ids, categories = list(flow.offer_ids or []), list(flow.categories or [])
    if wanted_ids or categories:
        statement = statement.where(or_(Offer.id.in_(wanted_ids), Offer.category.in_(categories)))
    offers = list(session.execute(statement).scalars())
    present = {offer.id for offer in offers}
    for missing in (offer_id for offer_id in wanted_ids if offer_id not in present):
        decision.drop(missing, "offerIds", "offer no longer exists")
    live: list[Offer] = []
    for offer in offers:
        if offer.status != "active":
            decision.drop(offer.id, "status", f"offer is {offer.status}")
        elif offer.start_date and now < offer.start_date:
            decision.drop(offer.id, "startDate", f"starts {iso(offer.start_date)}")
        elif offer.end_date and now > offer.end_date:
            decision.drop(offer.id, "endDate", f"ended {iso(offer.end_date)}")
        else:
            live.append(offer)
    return live


def _contact_policy(session: Session, customer_id: str, policy: dict[str, Any], offers: list[Offer],
                    now: datetime, decision: Decision) -> list[Offer]:
    blocked = policies.breaches(session, customer_id, [offer.id for offer in offers], policy, now)
    for offer_id, breach in blocked.items():
        decision.drop(str(offer_id), f"contactPolicy.{breach.rule}", breach.reason)
    return [offer for offer in offers if offer.id not in blocked]


class _Evaluator:
    """One decision's CEL evaluations: an expression that does not read `offer` runs once, not per offer."""

    def __init__(self, customer: dict[str, Any], now: datetime) -> None:
        self.base = {"customer": customer, "now": now}
        self.truths: dict[str, tuple[bool, str | None]] = {}
        self.values: dict[str, Any] = {}

    def truth(self, expression: str, offer: dict[str, Any]) -> tuple[bool, str | None]:
        if "offer" in names(expression):
            return is_true(expression, self._variables(offer))
        if expression not in self.truths:
            self.truths[expression] = is_true(expression, self.base)
        return self.truths[expression]

    def value(self, expression: str, offer: dict[str, Any]) -> Any:
        """The expression's value; raises ExpressionError."""
        if "offer" in names(expression):
            return evaluate(expression, self._variables(offer))
        if expression not in self.values:
            try:
                self.values[expression] = evaluate(expression, self.base)
            except ExpressionError as error:
                self.values[expression] = error
        result = self.values[expression]
        if isinstance(result, ExpressionError):
            raise result
        return result

    def _variables(self, offer: dict[str, Any]) -> dict[str, Any]:
        return {**self.base, "offer": offer}


def _qualify(offer: Offer, rules: list[Any], evaluator: _Evaluator, decision: Decision) -> _Scored | None:
    """Eligibility, qualification rules and relevance, then propensity; None when the offer is dropped."""
    variables = offer_variables(offer)
    if offer.eligibility:
        passed, error = evaluator.truth(offer.eligibility, variables)
        if not passed:
            decision.drop(offer.id, "eligibility", error or f"false: {offer.eligibility}")
            return None
    relevance = 1.0
    for index, rule in enumerate(rules):
        expression = rule if isinstance(rule, str) else rule.get("expression", "")
        name = (None if isinstance(rule, str) else rule.get("name")) or f"rules[{index}]"
        boost = None if isinstance(rule, str) else rule.get("relevance")
        passed, error = evaluator.truth(expression, variables)
        if boost is not None:
            relevance *= float(boost) if passed else 1.0
        elif not passed:
            decision.drop(offer.id, name, error or f"false: {expression}")
            return None
    propensity = _propensity(offer, variables, evaluator, decision)
    return None if propensity is None else _Scored(offer, propensity, relevance)


def _propensity(offer: Offer, variables: dict[str, Any], evaluator: _Evaluator,
                decision: Decision) -> float | None:
    value: Any = offer.propensity
    if isinstance(value, str):
        try:
            value = evaluator.value(value, variables)
        except ExpressionError as error:
            decision.drop(offer.id, "propensity", str(error))
            return None
    if value is None:
        value = 0.5
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        decision.drop(offer.id, "propensity", f"expected a number in 0..1, got {value!r}")
        return None
    return float(value)


def _rank(scored: list[_Scored], weights: dict[str, Any], decision: Decision) -> list[RankedOffer]:
    if not scored:
        return []
    top_value = max(entry.offer.business_value for entry in scored)
    ranked: list[tuple[RankedOffer, float]] = []
    for entry in scored:
        value = entry.offer.business_value
        factors = {"propensity": entry.propensity, "relevance": entry.relevance,
                   "impact": value / top_value if top_value > 0 else value,
                   "emphasis": float(entry.offer.priority)}
        zero = next((name for name in FACTORS if factors[name] <= 0), None)
        if zero:
            decision.drop(entry.offer.id, zero, f"{zero} is {factors[zero]:g}: a factor ≤ 0 eliminates")
            continue
        score = 1.0
        for name in FACTORS:
            score *= factors[name] ** float(weights.get(name, 1.0))
        ranked.append((RankedOffer(entry.offer.id, entry.offer.name, score, factors), entry.offer.priority))
    ranked.sort(key=lambda item: (-item[0].score, -item[1], item[0].offer_id))
    return [offer for offer, _priority in ranked]
