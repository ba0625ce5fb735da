"""Demo data for an empty database: customers, segments, offers, decision flows, channels and a live journey.

Everything goes through the same engine functions the API uses (except channels, inserted directly), so the
demo is also a smoke test of the whole stack. Random attributes come from a fixed seed: every demo is alike.
"""

from __future__ import annotations

import json
import random
from typing import Any

from sqlalchemy import select

from engine.audience import customer_import, segments
from engine.decisioning import offers
from engine.delivery import outbound
from engine.engine import Engine
from engine.journeys import lifecycle
from engine.journeys.layout import layout
from models.audience import Customer, SegmentIn
from models.channels import Channel
from models.journey import Journey, JourneyCreate
from models.offers import DecisionFlowIn, OfferIn

CUSTOMERS = 300
SEED = 20260105
FIRST_NAMES = ("Ada", "Ben", "Chloé", "Dev", "Emma", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Kira",
               "Liam", "Mia", "Noah", "Olga", "Paul", "Quinn", "Rosa", "Sven", "Tara")
COUNTRIES = ("DE", "FR", "GB", "US", "ES", "NL")
TIERS = ("bronze", "bronze", "bronze", "silver", "silver", "gold")

SEGMENTS = [
    SegmentIn(id="seg_gold", name="Gold members", rule="customer.tier == 'gold'"),
    SegmentIn(id="seg_high_value", name="High spenders", rule="customer.spend >= 800.0"),
    SegmentIn(id="seg_young", name="Under 30", rule="customer.age < 30",
              description="Entry segment of the demo journey"),
    SegmentIn(id="seg_beta", name="Beta testers", static=True),
]


def _creatives(headline: str, body: str) -> dict[str, dict[str, str]]:
    return {"in_app": {"subject": headline, "body": body},
            "webhook": {"subject": headline, "body": body + " (customer {{ customer.id }})"}}


OFFERS = [
    OfferIn(id="off_welcome_coffee", name="Free coffee", category="welcome", propensity=0.6, business_value=5,
            priority=2, creatives=_creatives("A coffee on us, {{ customer.name }}",
                                             "Show this at any counter: {{ offer.name | lower }}.")),
    OfferIn(id="off_free_shipping", name="Free shipping", category="welcome", propensity=0.45,
            business_value=12, priority=1, creatives=_creatives("Free shipping this week",
                                                                "Orders ship free until Sunday.")),
    OfferIn(id="off_gold_upgrade", name="Gold upgrade", category="upsell",
            eligibility="customer.tier != 'gold'",
            propensity="customer.visits >= 10 ? 0.7 : 0.2", business_value=80, priority=3,
            creatives=_creatives("Go gold, {{ customer.name }}", "Upgrade now and earn double points.")),
    OfferIn(id="off_loyalty_bonus", name="Loyalty bonus", category="retention",
            eligibility="customer.visits >= 5", propensity=0.55, business_value=25, priority=2,
            creatives=_creatives("Thanks for {{ customer.visits }} visits",
                                 "Here are 200 bonus points.")),
    OfferIn(id="off_student", name="Student discount", category="welcome", eligibility="customer.age < 26",
            propensity=0.65, business_value=15, priority=1,
            creatives=_creatives("Student deal", "15% off with your student id.")),
    OfferIn(id="off_premium_trial", name="Premium trial", category="upsell", eligibility="customer.age >= 25",
            propensity=0.3, business_value=60, priority=2,
            creatives=_creatives("Try premium free", "30 days of premium, cancel any time.")),
    OfferIn(id="off_winback", name="We miss you", category="retention", eligibility="customer.visits < 3",
            propensity=0.25, business_value=30, priority=1,
            creatives=_creatives("We miss you, {{ customer.name }}", "Come back for 20% off.")),
]

FLOWS = [
    DecisionFlowIn(id="dfl_welcome", name="Welcome offers", categories=["welcome", "retention"],
                   rules=["customer.country != 'US' || offer.id != 'off_free_shipping'",
                          {"name": "beta boost", "expression": "'seg_beta' in customer.segments",
                           "relevance": 1.5}],
                   contact_policy={"maxPerOffer": 2, "windowDays": 7, "maxPerDay": 3},
                   weights={"propensity": 1, "relevance": 1, "impact": 1, "emphasis": 0.5}, max_offers=2),
    DecisionFlowIn(id="dfl_upsell", name="Upsell", offer_ids=["off_gold_upgrade", "off_premium_trial",
                                                              "off_loyalty_bonus"],
                   contact_policy={"maxPerOffer": 1, "windowDays": 14},
                   weights={"propensity": 2, "relevance": 1, "impact": 1, "emphasis": 1}, max_offers=1),
]


def _journey() -> JourneyCreate:
    steps: list[dict[str, Any]] = [
        {"id": "pick", "type": "decide", "name": "Pick an offer", "next": "show",
         "config": {"decisionFlowId": "dfl_welcome", "maxOffers": 1, "storeResultAs": "best"}},
        {"id": "show", "type": "send", "name": "Show in app", "next": "wait",
         "config": {"channelId": "ch_inapp", "offerFrom": "best"}},
        {"id": "wait", "type": "wait", "name": "Wait for a purchase", "next": "route",
         "config": {"duration": 2, "unit": "days", "untilEvent": "purchase"}},
        {"id": "route", "type": "branch", "name": "What happened?",
         "config": {"conditions": [
             {"label": "Converted", "expression": "outcome == 'conversion'", "targetStepId": "reward"},
             {"label": "Clicked", "expression": "outcome == 'click'", "targetStepId": "nudge"}],
             "defaultStepId": "bye"}},
        {"id": "reward", "type": "update", "name": "Reward",
         "config": {"operations": [{"op": "increment", "attribute": "visits", "value": 1},
                                   {"op": "setFlag", "flag": "converted", "value": True}]}},
        {"id": "nudge", "type": "send", "name": "Nudge by webhook",
         "config": {"channelId": "ch_webhook", "offerFrom": "best"}},
        {"id": "bye", "type": "exit", "name": "No response", "config": {"reason": "no_response"}},
    ]
    positions = layout(steps)
    for step in steps:
        step["position"] = positions[step["id"]]
    return JourneyCreate.model_validate({
        "name": "Welcome the under-30s",
        "description": "Demo: the best offer in app, then a follow-up depending on the outcome",
        "entryConditions": {"segmentId": "seg_young", "reentry": "skip_if_active"}, "steps": steps})


def seed_if_empty(engine: Engine) -> bool:
    """Seed demo data when the database has no customers and no journeys; True when it seeded."""
    with engine.session() as s:
        if s.execute(select(Customer.id).limit(1)).first() or s.execute(select(Journey.id).limit(1)).first():
            return False
    for segment in SEGMENTS:
        segments.create_segment(engine, segment)
    customer_import.import_customers(engine, "\n".join(json.dumps(c) for c in _customers()), "jsonl")
    segments.change_members(engine, "seg_beta", [f"cus_{n:04d}" for n in range(0, CUSTOMERS, 15)], [])
    for offer in OFFERS:
        offers.create_offer(engine, offer)
    for flow in FLOWS:
        offers.create_decision_flow(engine, flow)
    _channels(engine)
    journey = lifecycle.create_journey(engine, _journey())
    lifecycle.change_status(engine, journey.id, "active")
    return True


def _customers() -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    people = []
    for n in range(CUSTOMERS):
        name = rng.choice(FIRST_NAMES)
        people.append({"id": f"cus_{n:04d}", "attributes": {
            "name": name, "email": f"{name.lower()}.{n}@example.com", "country": rng.choice(COUNTRIES),
            "age": rng.randint(18, 75), "tier": rng.choice(TIERS), "visits": rng.randint(0, 25),
            "spend": round(rng.uniform(0, 1500), 2), "newsletter": rng.random() < 0.6}})
    return people


def _channels(engine: Engine) -> None:
    moment = engine.now()
    # The app's own sink: the outbound guard always allows exactly this URL (see engine.delivery.outbound).
    url = outbound.own_sink_url(engine)
    with engine.session() as s:
        s.add(Channel(id="ch_inapp", name="In-app inbox", type="in_app", config={}, created_at=moment,
                      updated_at=moment))
        s.add(Channel(id="ch_webhook", name="Local webhook sink", type="webhook",
                      config={"url": url, "headers": {}, "timeoutSeconds": 5}, created_at=moment,
                      updated_at=moment))
