"""Decision flows: candidates, eligibility, qualification, contact policy and PRIE ranking, with a trace."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from engine import counters
from engine.audience import customers
from engine.clock import VirtualClock
from engine.counters import Tally
from engine.decisioning import offers
from engine.decisioning.decisions import Decision, contact_policy_of, decide, recommend
from engine.delivery.outbox import QueuedDelivery, queue_delivery
from engine.engine import Engine
from engine.errors import NotFound
from engine.ids import new_id
from models.audience import CustomerIn, CustomerUpdate
from models.channels import Delivery
from models.offers import DecisionFlowIn, OfferIn


def _offer(engine: Engine, offer_id: str, **fields: Any) -> None:
    offers.create_offer(engine, OfferIn(id=offer_id, name=offer_id.title(), **fields))


def _flow(engine: Engine, flow_id: str = "flow", **fields: Any) -> str:
    fields.setdefault("max_offers", 10)
    offers.create_decision_flow(engine, DecisionFlowIn(id=flow_id, name=flow_id, **fields))
    return flow_id


def _decide(
        engine: Engine, flow_id: str = "flow", customer_id: str = "c1", limit: int | None = None) -> Decision:
    with engine.unit_of_work() as uow:
        view = customers.customer_view(uow.session, customer_id)
        assert view is not None
        return decide(uow, view, flow_id, limit, engine.now())


def _dropped(decision: Decision) -> dict[str, str]:
    return {entry["offerId"]: entry["rule"] for entry in decision.trace}


def _ids(decision: Decision) -> list[str]:
    return [offer.offer_id for offer in decision.offers]


def _send(engine: Engine, customer_id: str, offer_id: str, at: datetime, status: str = "sent") -> None:
    with engine.session() as s:
        s.add(Delivery(id=new_id("dlv"), idempotency_key=new_id("key"), customer_id=customer_id,
                       channel_id="ch", offer_id=offer_id, status=status, created_at=at))


@pytest.fixture
def customer(engine: Engine) -> str:
    customers.create_customer(engine, CustomerIn(id="c1", attributes={"age": 30, "country": "DE",
                                                                      "tier": "gold"}))
    return "c1"


def test_eligibility_drops_offers_with_trace(engine: Engine, customer: str) -> None:
    _offer(engine, "adult", eligibility="customer.age >= 18")
    _offer(engine, "teen", eligibility="customer.age < 18")
    _offer(engine, "broken", eligibility="customer.missing > 3")
    _offer(engine, "open")
    decision = _decide(engine, _flow(engine, offer_ids=["adult", "teen", "broken", "open"]))

    assert sorted(_ids(decision)) == ["adult", "open"]
    assert _dropped(decision) == {"teen": "eligibility", "broken": "eligibility"}
    broken = next(entry for entry in decision.trace if entry["offerId"] == "broken")
    assert "missing" in broken["reason"]


def test_rules_that_loop_over_the_customer_are_checked_like_any_other(engine: Engine, customer: str) -> None:
    # A comprehension over an input list is evaluated with its run-time budget, not as a bare program.
    _offer(engine, "loyal", eligibility="customer.segments.exists(s, s == 'vip')")
    _offer(engine, "known", eligibility="customer.segments.all(s, s != 'blocked')")
    decision = _decide(engine, _flow(engine, offer_ids=["loyal", "known"]))

    assert _ids(decision) == ["known"]
    assert _dropped(decision) == {"loyal": "eligibility"}


def test_qualification_rules_drop_with_the_rule_named(engine: Engine, customer: str) -> None:
    _offer(engine, "cheap", category="deals", business_value=5)
    _offer(engine, "pricey", category="deals", business_value=50)
    _offer(engine, "other", category="misc")
    flow = _flow(engine, categories=["deals"], rules=[
        "offer.businessValue < 20.0",
        {"name": "germany only", "expression": "customer.country == 'DE'"},
    ])
    decision = _decide(engine, flow)

    assert _ids(decision) == ["cheap"]
    assert decision.trace == [{"offerId": "pricey", "rule": "rules[0]",
                               "reason": "false: offer.businessValue < 20.0"}]

    customers.update_customer(engine, "c1", CustomerUpdate(attributes={"country": "FR"}))
    assert _dropped(_decide(engine, flow)) == {"cheap": "germany only", "pricey": "rules[0]"}


def test_inactive_and_out_of_date_offers_are_not_candidates(
        engine: Engine, customer: str, clock: VirtualClock) -> None:
    _offer(engine, "off", status="inactive")
    _offer(engine, "future", start_date=clock.now() + timedelta(days=1))
    _offer(engine, "past", end_date=clock.now() - timedelta(days=1))
    _offer(engine, "live", start_date=clock.now() - timedelta(days=1),
           end_date=clock.now() + timedelta(days=1))
    decision = _decide(engine, _flow(engine, offer_ids=["off", "future", "past", "live"]))

    assert _ids(decision) == ["live"]
    assert _dropped(decision) == {"off": "status", "future": "startDate", "past": "endDate"}
    clock.advance(days=2)
    assert _ids(_decide(engine)) == ["future"]


def test_frequency_cap_suppresses_after_n_sends_and_releases_after_the_window(
        engine: Engine, customer: str, clock: VirtualClock) -> None:
    _offer(engine, "a")
    _offer(engine, "b")
    flow = _flow(engine, offer_ids=["a", "b"], contact_policy={"maxPerOffer": 2, "windowDays": 3})
    _send(engine, "c1", "a", clock.now())
    assert sorted(_ids(_decide(engine, flow))) == ["a", "b"]

    clock.advance(hours=1)
    _send(engine, "c1", "a", clock.now(), status="queued")
    _send(engine, "c1", "a", clock.now(), status="failed")  # failed sends do not count
    decision = _decide(engine, flow)
    assert _ids(decision) == ["b"]
    assert decision.trace == [{"offerId": "a", "rule": "contactPolicy.maxPerOffer",
                               "reason": "2 sends in the last 3 days (cap 2)"}]

    clock.advance(days=3)  # the first send leaves the window
    assert sorted(_ids(_decide(engine, flow))) == ["a", "b"]


def test_daily_cap_across_offers(engine: Engine, customer: str, clock: VirtualClock) -> None:
    _offer(engine, "a")
    _offer(engine, "b")
    flow = _flow(engine, offer_ids=["a", "b"], contact_policy={"maxPerDay": 2})
    _send(engine, "c1", "a", clock.now())
    _send(engine, "c1", "other", clock.now())
    decision = _decide(engine, flow)
    assert _ids(decision) == []
    assert _dropped(decision) == {"a": "contactPolicy.maxPerDay", "b": "contactPolicy.maxPerDay"}
    clock.advance(hours=25)
    assert sorted(_ids(_decide(engine, flow))) == ["a", "b"]


def test_decide_and_the_outbox_apply_one_contact_policy(
        engine: Engine, customer: str, clock: VirtualClock) -> None:
    _offer(engine, "a")
    flow = _flow(engine, offer_ids=["a"], contact_policy={"maxPerOffer": 1, "maxPerDay": 5})
    policy = offers.get_decision_flow(engine, flow)["contactPolicy"]

    def queue(key: str) -> QueuedDelivery:
        with engine.unit_of_work() as uow:
            s = uow.session
            tally = Tally()
            queued = queue_delivery(uow, tally, customer_id="c1", channel_id="ch", offer_id="a",
                                    journey_id=None, enrollment_id=None, step_id=None, idempotency_key=key,
                                    template=None, context={}, contact_policy=policy, now=engine.now())
            counters.apply(s, tally)
            return queued

    assert queue("k1").status == "queued"
    reason = "1 sends in the last 7 days (cap 1)"
    assert _decide(engine, flow).trace == [
        {"offerId": "a", "rule": "contactPolicy.maxPerOffer", "reason": reason}]
    second = queue("k2")
    assert (second.status, second.reason) == ("suppressed", f"contact policy maxPerOffer: {reason}")
    clock.advance(days=7, seconds=1)  # the flow's default window
    assert _ids(_decide(engine, flow)) == ["a"]
    assert queue("k3").status == "queued"


def test_prie_ranks_as_computed_by_hand(engine: Engine, customer: str) -> None:
    # impact = businessValue / 200 (the largest); weights: propensity 2, relevance 1, impact 1, emphasis 0.5.
    _offer(engine, "x", propensity=0.5, business_value=200, priority=1)  # 0.25 * 1 * 1.0 * 1   = 0.25
    _offer(engine, "y", propensity=0.9, business_value=100, priority=4)  # 0.81 * 1 * 0.5 * 2   = 0.81
    _offer(engine, "z", propensity="customer.age > 20 ? 0.8 : 0.1", business_value=50, priority=9,
           category="boosted")                                    # 0.64 * 3 * 0.25 * 3 = 1.44
    flow = _flow(engine, offer_ids=["x", "y", "z"],
                 weights={"propensity": 2, "relevance": 1, "impact": 1, "emphasis": 0.5},
                 rules=[{"expression": "offer.category == 'boosted'", "relevance": 3}])
    decision = _decide(engine, flow)

    assert _ids(decision) == ["z", "y", "x"]
    assert [offer.score for offer in decision.offers] == pytest.approx([1.44, 0.81, 0.25])
    assert decision.offers[0].factors == pytest.approx(
        {"propensity": 0.8, "relevance": 3.0, "impact": 0.25, "emphasis": 9.0})
    assert decision.trace == []


def test_unit_weights_score_the_plain_product_of_the_factors(engine: Engine, customer: str) -> None:
    _offer(engine, "x", propensity=0.3, business_value=70, priority=3)
    _offer(engine, "y", propensity=0.7, business_value=90, priority=2, category="boosted")
    boost = {"expression": "offer.category == 'boosted'", "relevance": 1.1}
    flow = _flow(engine, offer_ids=["x", "y"], rules=[boost])
    decision = _decide(engine, flow)

    # The formula's powers with every weight 1, evaluated in the formula's order: equal to the last bit.
    factors = {offer.offer_id: offer.factors for offer in decision.offers}
    expected = {offer_id: 1.0 * f["propensity"] ** 1.0 * f["relevance"] ** 1.0 * f["impact"] ** 1.0
                * f["emphasis"] ** 1.0 for offer_id, f in factors.items()}
    assert {offer.offer_id: offer.score for offer in decision.offers} == expected
    assert _ids(decision) == ["y", "x"]


def test_a_flows_contact_policy_is_read_with_or_without_a_decision_in_the_unit_of_work(
        engine: Engine, customer: str) -> None:
    _offer(engine, "x")
    flow = _flow(engine, offer_ids=["x"], contact_policy={"maxPerDay": 2, "windowDays": 7})
    _flow(engine, "quiet", offer_ids=["x"])
    with engine.unit_of_work() as uow:
        assert contact_policy_of(uow, flow) == {"maxPerDay": 2, "windowDays": 7}
        assert contact_policy_of(uow, "quiet") is None
        assert contact_policy_of(uow, "gone") is None
    with engine.unit_of_work() as uow:
        view = customers.customer_view(uow.session, customer)
        assert view is not None
        decide(uow, view, flow, None, engine.now())
        policy = contact_policy_of(uow, flow)
        assert policy == {"maxPerDay": 2, "windowDays": 7}
        policy["maxPerDay"] = 99  # a copy: the catalogue's own stays as stored
        assert contact_policy_of(uow, flow) == {"maxPerDay": 2, "windowDays": 7}


def test_a_zero_factor_eliminates(engine: Engine, customer: str) -> None:
    _offer(engine, "no_chance", propensity=0.0)
    _offer(engine, "worthless", business_value=0)
    _offer(engine, "muted", priority=0)
    _offer(engine, "irrelevant", category="hidden")
    _offer(engine, "fine")
    flow = _flow(engine, offer_ids=["no_chance", "worthless", "muted", "irrelevant", "fine"],
                 rules=[{"expression": "offer.category == 'hidden'", "relevance": 0}])
    decision = _decide(engine, flow)

    assert _ids(decision) == ["fine"]
    assert _dropped(decision) == {"no_chance": "propensity", "worthless": "impact", "muted": "emphasis",
                                  "irrelevant": "relevance"}


def test_ties_break_by_priority_then_offer_id(engine: Engine, customer: str) -> None:
    # Equal scores when emphasis carries no weight: the higher priority wins, then the smaller id.
    _offer(engine, "b", priority=1)
    _offer(engine, "a", priority=1)
    _offer(engine, "c", priority=5)
    flow = _flow(engine, offer_ids=["b", "a", "c"], weights={"emphasis": 0})
    assert _ids(_decide(engine, flow)) == ["c", "a", "b"]
    assert _ids(_decide(engine, flow)) == ["c", "a", "b"]


def test_limit_and_max_offers_cut_the_list_with_trace(engine: Engine, customer: str) -> None:
    for name, value in (("a", 3), ("b", 2), ("c", 1)):
        _offer(engine, name, business_value=value)
    _flow(engine, offer_ids=["a", "b", "c"], max_offers=2)
    decision = _decide(engine)
    assert _ids(decision) == ["a", "b"]
    assert decision.trace == [{"offerId": "c", "rule": "maxOffers", "reason": "ranked #3, only 2 returned"}]
    assert _ids(_decide(engine, limit=1)) == ["a"]


def test_propensity_expression_out_of_range_drops(engine: Engine, customer: str) -> None:
    _offer(engine, "weird", propensity="double(customer.age)")
    decision = _decide(engine, _flow(engine, offer_ids=["weird"]))
    assert _ids(decision) == []
    assert _dropped(decision) == {"weird": "propensity"}


def test_recommend_wire_shape_and_unknown_ids(engine: Engine, customer: str) -> None:
    _offer(engine, "a", propensity=0.4)
    _flow(engine, offer_ids=["a"])
    assert recommend(engine, "c1", "flow") == {
        "offers": [{"offerId": "a", "name": "A", "score": pytest.approx(0.4),
                    "factors": {"propensity": 0.4, "relevance": 1.0, "impact": 1.0, "emphasis": 1.0}}],
        "trace": []}
    with pytest.raises(NotFound):
        recommend(engine, "nobody", "flow")
    with pytest.raises(NotFound):
        recommend(engine, "c1", "no_flow")


def test_a_unit_of_work_reads_the_flow_and_its_offers_once(engine: Engine, customer: str) -> None:
    _offer(engine, "o1", eligibility="customer.age >= 18")
    _offer(engine, "o2", eligibility="offer.businessValue > 0.0 && customer.country == 'DE'")
    _flow(engine, offer_ids=["o1", "o2"], contact_policy={"maxPerDay": 5})
    with engine.unit_of_work() as uow:
        s = uow.session
        view = customers.customer_view(s, "c1")
        assert view is not None
        first = decide(uow, view, "flow", None, engine.now())
        statements: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)

        bind = s.get_bind()
        event.listen(bind, "before_cursor_execute", record)
        try:
            second = decide(uow, view, "flow", None, engine.now())
        finally:
            event.remove(bind, "before_cursor_execute", record)
    assert _ids(second) == _ids(first) == ["o1", "o2"]
    assert len(statements) == 1 and "delivery" in statements[0]  # only the contact-policy count


def test_the_first_failing_rule_is_named_whether_it_reads_the_customer_or_the_offer(
        engine: Engine, customer: str) -> None:
    _offer(engine, "cheap", business_value=5.0)
    _offer(engine, "dear", business_value=500.0)
    _flow(engine, rules=[{"expression": "offer.businessValue > 100.0", "relevance": 2.0, "name": "premium"},
                 "customer.age < 40",
                 {"expression": "offer.businessValue < 100.0", "name": "affordable"},
                 {"expression": "customer.age > 40", "name": "older"}])
    decision = _decide(engine)
    assert _dropped(decision) == {"dear": "affordable", "cheap": "older"}
    assert [entry["reason"] for entry in decision.trace] == ["false: customer.age > 40",
                                                             "false: offer.businessValue < 100.0"]
