"""Demo data: seeds an empty database once, with a valid active journey and working decisioning."""

from __future__ import annotations

from engine import demo
from engine.audience import customers, segments
from engine.decisioning import decisions
from engine.engine import Engine
from engine.journeys import lifecycle
from models.audience import CustomerIn


def test_seeds_an_empty_database_once(engine: Engine) -> None:
    assert demo.seed_if_empty(engine) is True
    assert demo.seed_if_empty(engine) is False

    assert customers.list_customers(engine, limit=1)["pagination"]["total"] == demo.CUSTOMERS
    listed = {s["id"]: s["memberCount"] for s in segments.list_segments(engine)["data"]}
    assert set(listed) == {"seg_gold", "seg_high_value", "seg_young", "seg_beta"}
    assert all(count > 0 for count in listed.values())
    page = lifecycle.list_journeys(engine, status="active")
    assert page["pagination"]["total"] == 1
    assert lifecycle.validate_journey(engine, page["data"][0]["id"]).valid


def test_demo_decision_flow_accounts_for_every_candidate(engine: Engine) -> None:
    demo.seed_if_empty(engine)
    young = segments.list_members(engine, "seg_young", limit=1)["data"][0]["customerId"]
    result = decisions.recommend(engine, young, "dfl_welcome")
    candidates = {offer.id for offer in demo.OFFERS if offer.category in ("welcome", "retention")}
    assert 1 <= len(result["offers"]) <= 2
    assert {o["offerId"] for o in result["offers"]} | {t["offerId"] for t in result["trace"]} == candidates


def test_does_not_seed_when_customers_exist(engine: Engine) -> None:
    customers.create_customer(engine, CustomerIn(id="mine"))
    assert demo.seed_if_empty(engine) is False
    assert segments.list_segments(engine)["pagination"]["total"] == 0
