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

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from engine.audience.customers import customer_view
from engine.decisioning import contact_policy as policies
from engine.engine import Engine
from engine.errors import NotFound
from engine.expressions import (
    ExpressionError,
    Scope,
    bind,
    evaluate,
    failure,
    fields,
    names,
    program,
    project,
)
from engine.records import fetch
from engine.unit_of_work import UnitOfWork
from models.common import iso
from models.offers import DecisionFlow, Offer

FACTORS = ("propensity", "relevance", "impact", "emphasis")
_OFFERS = Offer.__table__  # type: ignore[attr-defined]
_OFFER_COLUMNS = [_OFFERS.c[name] for name in (
    "id", "name", "description", "category", "status", "eligibility", "propensity", "business_value",
    "priority", "start_date", "end_date")]


@dataclass
class RankedOffer:
    offer_id: str
    name: str
    score: float
    factors: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"offerId": self.offer_id, "name": self.name, "score": self.score, "factors": self.factors}


class Decision:
    """The ranked offers and the trace of every offer that did not make it, in the order they dropped.

    Entries are kept as tuples and the offers ranked below the cut as ids: the trace's dicts are built
    only for what is read (the decide step keeps the first few and the count; /recommend all of them)."""

    __slots__ = ("_cut", "_dropped", "_ranked_out", "offers")

    def __init__(self) -> None:
        self.offers: list[RankedOffer] = []
        self._dropped: list[tuple[str, str, str]] = []
        self._ranked_out: list[str] = []
        self._cut = 0

    def drop(self, offer_id: str, rule: str, reason: str) -> None:
        self._dropped.append((offer_id, rule, reason))

    def ranked_below(self, offer_ids: list[str], cut: int) -> None:
        """The offers that scored but ranked below the `cut` returned, best first (they end the trace)."""
        self._ranked_out, self._cut = offer_ids, cut

    @property
    def filtered(self) -> int:
        """How many offers the trace names."""
        return len(self._dropped) + len(self._ranked_out)

    def head(self, limit: int) -> list[dict[str, Any]]:
        """The first `limit` trace entries."""
        entries = [{"offerId": offer_id, "rule": rule, "reason": reason}
                   for offer_id, rule, reason in self._dropped[:limit]]
        below, cut = self._ranked_out[:max(limit - len(entries), 0)], self._cut
        entries.extend({"offerId": offer_id, "rule": "maxOffers",
                        "reason": f"ranked #{position}, only {cut} returned"}
                       for position, offer_id in enumerate(below, start=cut + 1))
        return entries

    @property
    def trace(self) -> list[dict[str, Any]]:
        return self.head(self.filtered)

    def to_dict(self) -> dict[str, Any]:
        """The wire shape of `POST /recommend`."""
        return {"offers": [offer.to_dict() for offer in self.offers], "trace": self.trace}


@dataclass(frozen=True, slots=True)
class _Check:
    """One expression an offer must pass (or a propensity to compute), prepared for every customer."""

    rule: str  # the trace's name for it: "eligibility", "propensity", a rule's name
    expression: str  # as written (what a trace quotes)
    boost: float | None = None  # a relevance rule's factor; None: a qualification rule
    static: Any = None  # the value (or ExpressionError) when it reads nothing but `offer`
    source: str = ""  # what runs against a customer's scope (with the offer bound in, if it reads it)
    offer: dict[str, Any] | None = None  # the offer as a variable, when it could not be bound in
    slot: int = -1  # the catalogue's index of `source` (one evaluation per distinct source and decision)

    @property
    def false_reason(self) -> str:
        return f"false: {self.expression}"


@dataclass(frozen=True, slots=True)
class _Offer:
    """What deciding reads of an offer row, copied once per session (plain values, never expired)."""

    id: str
    name: str
    status: str
    start_date: datetime | None
    end_date: datetime | None
    business_value: float
    priority: float
    checks: tuple[_Check, ...]  # eligibility, then the flow's rules, in trace order (see _effective)
    propensity: _Check  # an expression, or the stored number as its static value (None: 0.5)


# An offer that qualified: (offer, propensity, relevance). A plain tuple: one is made per offer per decision.
_Scored = tuple[_Offer, float, float]


class _Catalogue:
    """A decision flow with its candidate offers, loaded once per session, with every (expression, offer)
    prepared: an expression that reads only the offer is evaluated here once; one that reads the customer
    too is compiled with the offer written into it, so a decision runs all of them against one scope."""

    def __init__(self, engine: Engine, flow: DecisionFlow, offers: list[Any], missing: list[str]) -> None:
        self.engine = engine
        rules = [(_rule_name(rule, index), _rule_expression(rule), _boost(rule))
                 for index, rule in enumerate(flow.rules or [])]
        # Held, not just read: the session's identity map keeps rows only while referenced, and the send
        # step reads this row's contact policy for every enrollment of the batch (a hit, not a query).
        self.flow = flow
        self.policy: dict[str, Any] = dict(flow.contact_policy or {})
        weights = flow.weights or {}
        self.weights = {name: float(weights.get(name, 1.0)) for name in FACTORS}
        self.max_offers: int = flow.max_offers or 1
        self.missing = missing
        slots: dict[str, int] = {}
        self.offers = [self._prepare(row, rules, slots) for row in offers]
        # Each distinct source by slot, and its program's own execute (None: it goes through `evaluate`).
        self.sources = list(slots)
        self.programs: list[Callable[[Any], Any] | None] = [program(source) for source in slots]
        read: set[str] | None = set()
        for offer in self.offers:
            for check in (*offer.checks, offer.propensity):
                if check.static is _NOT_STATIC:
                    more = fields(check.expression, "customer")
                    read = None if read is None or more is None else read | more
        self.customer_fields = None if read is None else frozenset(read)
        # The last `now` asked about, with its live offers and the trace entries of the others: every
        # decision of a runner batch is made at the batch's one moment.
        self._live: tuple[datetime, list[_Offer], list[tuple[str, str, str]]] | None = None

    def candidates(self, now: datetime, decision: Decision) -> list[_Offer]:
        """The offers live at `now` (active, inside their dates); the others go to the trace."""
        if self._live is None or self._live[0] != now:
            dropped = [(missing, "offerIds", "offer no longer exists") for missing in self.missing]
            live: list[_Offer] = []
            for offer in self.offers:
                if offer.status != "active":
                    dropped.append((offer.id, "status", f"offer is {offer.status}"))
                elif offer.start_date and now < offer.start_date:
                    dropped.append((offer.id, "startDate", f"starts {iso(offer.start_date)}"))
                elif offer.end_date and now > offer.end_date:
                    dropped.append((offer.id, "endDate", f"ended {iso(offer.end_date)}"))
                else:
                    live.append(offer)
            self._live = (now, live, dropped)
        decision._dropped.extend(self._live[2])
        return self._live[1]

    def _prepare(self, row: Any, rules: list[tuple[str, str, float | None]], slots: dict[str, int]) -> _Offer:
        variables = offer_variables(row)
        engine = self.engine
        checks = [_check(engine, "eligibility", row.eligibility, None, variables)] if row.eligibility else []
        checks += [_check(engine, name, expression, boost, variables) for name, expression, boost in rules]
        propensity = row.propensity
        if isinstance(propensity, str):
            propensity = _check(engine, "propensity", propensity, None, variables)
        else:
            propensity = _Check("propensity", "", static=0.5 if propensity is None else propensity)
        checks = [_slotted(check, slots) for check in checks]
        propensity = _slotted(propensity, slots)
        return _Offer(row.id, row.name, row.status, row.start_date, row.end_date, row.business_value,
                      row.priority, _effective(checks), propensity)


_NOT_STATIC = object()


def _check(engine: Engine, rule: str, expression: str, boost: float | None, offer: dict[str, Any]) -> _Check:
    read = names(expression)
    if "offer" not in read:
        return _Check(rule, expression, boost, _NOT_STATIC, expression)
    source = bind(expression, "offer", offer)
    if read == {"offer"}:
        static = (_evaluate(engine, expression, {"offer": offer}) if source is None
                  else _evaluate(engine, source, {}))
        return _Check(rule, expression, boost, static)
    if source is None:  # evaluated with the offer as a variable, each time
        return _Check(rule, expression, boost, _NOT_STATIC, expression, offer)
    return _Check(rule, expression, boost, _NOT_STATIC, source)


def _effective(checks: list[_Check]) -> tuple[_Check, ...]:
    """The checks a decision must look at, in order, with the same outcome as all of them: a static
    qualification check that passes is left out and one that fails ends the list (every decision drops
    the offer there), a static relevance rule that is not true is left out (it multiplies by 1.0)."""
    kept: list[_Check] = []
    for check in checks:
        passed = check.static is True
        if check.static is _NOT_STATIC or (check.boost is not None and passed):
            kept.append(check)
        elif check.boost is None and not passed:
            kept.append(check)
            break
    return tuple(kept)


def _slotted(check: _Check, slots: dict[str, int]) -> _Check:
    """The check with the slot of its source (a new slot for a source not seen before)."""
    if check.static is not _NOT_STATIC or check.offer is not None:
        return check
    return replace(check, slot=slots.setdefault(check.source, len(slots)))


def decide(uow: UnitOfWork, customer: dict[str, Any], flow_id: str, limit: int | None,
           now: datetime) -> Decision:
    """Rank the flow's offers for `customer` (a customer view); `limit` defaults to the flow's maxOffers.
    Reads only: the flow's catalogue (loaded once per unit of work) and the contact-policy counts."""
    catalogue = _catalogue(uow, flow_id)
    decision = Decision()
    offers = catalogue.candidates(now, decision)
    offers = _contact_policy(uow, customer["id"], catalogue.policy, offers, now, decision)
    scored = _qualify(offers, _Evaluator(uow.engine, catalogue, customer, now), decision)
    decision.offers = _rank(scored, catalogue.weights, limit or catalogue.max_offers, decision)
    return decision


def recommend(engine: Engine, customer_id: str, flow_id: str, limit: int | None = None) -> dict[str, Any]:
    """`POST /recommend`: decide for a stored customer (unknown customer or flow → NotFound)."""
    with engine.reader() as s:
        customer = customer_view(s, customer_id)
        if customer is None:
            raise NotFound(f"customer {customer_id} not found", {"field": "customerId"})
        return decide(UnitOfWork(engine, s), customer, flow_id, limit, engine.now()).to_dict()


def offer_variables(offer: Any) -> dict[str, Any]:
    """What CEL sees as `offer` (from an Offer, or a row of its columns)."""
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


def _catalogue(uow: UnitOfWork, flow_id: str) -> _Catalogue:
    """The flow and its offers as this unit of work first read them (unknown flow → NotFound)."""
    catalogues: dict[str, _Catalogue] = uow.loaded.catalogues
    catalogue = catalogues.get(flow_id)
    session = uow.session
    if catalogue is None:
        flow = fetch(session, DecisionFlow, flow_id, "decision flow")
        # Plain rows of the columns deciding reads (creatives can be large and are not needed here).
        statement = select(*_OFFER_COLUMNS).order_by(_OFFERS.c.id)
        wanted_ids, categories = list(flow.offer_ids or []), list(flow.categories or [])
        if wanted_ids or categories:
            statement = statement.where(or_(_OFFERS.c.id.in_(wanted_ids), _OFFERS.c.category.in_(categories)))
        offers = list(session.execute(statement).all())
        present = {offer.id for offer in offers}
        missing = [offer_id for offer_id in wanted_ids if offer_id not in present]
        catalogue = catalogues[flow_id] = _Catalogue(uow.engine, flow, offers, missing)
    return catalogue


def contact_policy_of(uow: UnitOfWork, flow_id: str) -> dict[str, Any] | None:
    """The flow's contact policy (None: it has none, or the flow is gone), from the unit of work's catalogue
    when a decision in it loaded the flow (the send step asks for every enrollment of a batch)."""
    catalogue: _Catalogue | None = uow.loaded.catalogues.get(flow_id)
    if catalogue is not None:
        return dict(catalogue.policy) or None
    flow = uow.session.get(DecisionFlow, flow_id)
    return dict(flow.contact_policy) if flow and flow.contact_policy else None


def _contact_policy(uow: UnitOfWork, customer_id: str, policy: dict[str, Any], offers: list[_Offer],
                    now: datetime, decision: Decision) -> list[_Offer]:
    if not policy:
        return offers
    blocked = policies.breaches(uow, customer_id, [offer.id for offer in offers], policy, now)
    for offer_id, breach in blocked.items():
        decision.drop(str(offer_id), f"contactPolicy.{breach.rule}", breach.reason)
    return [offer for offer in offers if offer.id not in blocked]


class _Evaluator:
    """One decision's CEL evaluations, all against one prepared scope (the customer, trimmed to the fields
    the flow reads, and `now`); each distinct source runs once per decision."""

    __slots__ = ("catalogue", "engine", "results", "scope")

    def __init__(self, engine: Engine, catalogue: _Catalogue, customer: dict[str, Any],
                 now: datetime) -> None:
        self.engine = engine
        self.scope = Scope({"customer": project(customer, catalogue.customer_fields), "now": now})
        self.catalogue = catalogue
        self.results: list[Any] = [_NOT_STATIC] * len(catalogue.sources)

    def value(self, check: _Check) -> Any:
        """The check's value, or the ExpressionError it raised."""
        if check.static is not _NOT_STATIC:
            return check.static
        slot = check.slot
        if slot < 0:  # the offer could not be written into the program
            return _evaluate(self.engine, check.expression, {**self.scope.variables, "offer": check.offer})
        result = self.results[slot]
        if result is _NOT_STATIC:
            execute = self.catalogue.programs[slot]
            try:
                if execute is None:
                    result = evaluate(self.engine, self.catalogue.sources[slot], self.scope)
                else:
                    result = execute(self.scope.context)
            except ExpressionError as error:
                result = error  # kept, so a failing expression is not run again
            except Exception as error:  # the library's own, from a program run directly
                result = failure(error)
            self.results[slot] = result
        return result


def _evaluate(engine: Engine, expression: str, variables: dict[str, Any] | Scope) -> Any:
    """The value, or the ExpressionError (kept, so a failing expression is not run again)."""
    try:
        return evaluate(engine, expression, variables)
    except ExpressionError as error:
        return error


def _rule_expression(rule: Any) -> str:
    return rule if isinstance(rule, str) else rule.get("expression", "")


def _rule_name(rule: Any, index: int) -> str:
    return (None if isinstance(rule, str) else rule.get("name")) or f"rules[{index}]"


def _boost(rule: Any) -> float | None:
    boost = None if isinstance(rule, str) else rule.get("relevance")
    return None if boost is None else float(boost)


def _qualify(offers: list[_Offer], evaluator: _Evaluator, decision: Decision) -> list[_Scored]:
    """Eligibility, qualification rules and relevance, then propensity, for each offer; the dropped ones
    go to the trace. (One loop with the evaluator's cache read inline: this runs for every offer of every
    decision.)"""
    results, value_of, scored = evaluator.results, evaluator.value, []
    for offer in offers:
        relevance = 1.0
        for check in offer.checks:
            value = check.static
            if value is _NOT_STATIC:
                slot = check.slot
                value = results[slot] if slot >= 0 else _NOT_STATIC
                if value is _NOT_STATIC:
                    value = value_of(check)
            if check.boost is not None:
                if value is True:
                    relevance *= check.boost
            elif value is not True:
                decision.drop(offer.id, check.rule, _reason(check, value))
                break
        else:
            value = offer.propensity.static
            if value is _NOT_STATIC:
                value = value_of(offer.propensity)
            if type(value) is float and 0 <= value <= 1:  # the usual case, checked first
                scored.append((offer, value, relevance))
            elif (propensity := _propensity(offer, value, decision)) is not None:
                scored.append((offer, propensity, relevance))
    return scored


def _reason(check: _Check, value: Any) -> str:
    if isinstance(value, ExpressionError):
        return str(value)
    if value is False:
        return check.false_reason
    return f"expected true/false, got {type(value).__name__}"


def _propensity(offer: _Offer, value: Any, decision: Decision) -> float | None:
    """A propensity that is not a plain float in 0..1: an error, an integer, or out of range."""
    if isinstance(value, ExpressionError):
        decision.drop(offer.id, "propensity", str(value))
        return None
    if value is None:
        value = 0.5
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        decision.drop(offer.id, "propensity", f"expected a number in 0..1, got {value!r}")
        return None
    return float(value)


def _rank(scored: list[_Scored], weights: dict[str, float], cut: int,
          decision: Decision) -> list[RankedOffer]:
    """The `cut` best offers by PRIE score; the rest go to the trace (factor ≤ 0, or ranked below)."""
    if not scored:
        return []
    top_value = max(offer.business_value for offer, _propensity, _relevance in scored)
    w_propensity, w_relevance, w_impact, w_emphasis = (weights[name] for name in FACTORS)
    plain = w_propensity == w_relevance == w_impact == w_emphasis == 1.0
    ranked: list[tuple[float, float, str, _Scored, float]] = []
    for entry in scored:
        offer, propensity, relevance = entry
        value = offer.business_value
        impact = value / top_value if top_value > 0 else value
        emphasis = float(offer.priority)
        if propensity <= 0 or relevance <= 0 or impact <= 0 or emphasis <= 0:
            factors = _factors(entry, impact)
            zero = next(name for name in FACTORS if factors[name] <= 0)
            decision.drop(offer.id, zero, f"{zero} is {factors[zero]:g}: a factor ≤ 0 eliminates")
            continue
        # The products in the formula's order: scores are reproducible to the last bit (x ** 1.0 is x
        # exactly, so the usual weights of 1 skip the powers and give the same bits).
        if plain:
            score = propensity * relevance * impact * emphasis
        else:
            score = 1.0 * propensity ** w_propensity
            score *= relevance ** w_relevance
            score *= impact ** w_impact
            score *= emphasis ** w_emphasis
        ranked.append((-score, -offer.priority, offer.id, entry, impact))
    ranked.sort()  # offer ids are unique: the order is decided before an entry is ever compared
    decision.ranked_below([offer_id for _score, _priority, offer_id, *_rest in ranked[cut:]], cut)
    return [RankedOffer(entry[0].id, entry[0].name, -score, _factors(entry, impact))
            for score, _priority, _id, entry, impact in ranked[:cut]]


def _factors(entry: _Scored, impact: float) -> dict[str, float]:
    offer, propensity, relevance = entry
    return {"propensity": propensity, "relevance": relevance, "impact": impact,
            "emphasis": float(offer.priority)}
