"""Benchmark: next-best-offer decisions for one customer over 100 offers, as decisions per second.

    python tests/perf/bench_decisioning.py [--offers N] [--seconds S]

Builds a temporary SQLite database with one customer, N offers (each with a CEL eligibility, half with a
CEL propensity), a decision flow over all of them with two qualification rules, a relevance rule and a
contact policy, and some delivery history. Times `engine.decisioning.decisions.decide` (the decide step's
call, in one session) and `recommend` (the API's call: session, customer view, decide), against a
same-process baseline: evaluating the N eligibility expressions alone.
Prints figures; it is not a pytest test.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import select

from engine import startup
from engine.audience import customers
from engine.clock import VirtualClock
from engine.decisioning import decisions, offers
from engine.engine import Engine
from engine.expressions import is_true
from engine.ids import new_id
from engine.settings import Settings
from models.audience import CustomerIn
from models.channels import Delivery
from models.offers import DecisionFlowIn, Offer, OfferIn

ELIGIBILITY = ["customer.age >= {n}", "customer.country in ['DE', 'FR', 'NL']", "customer.visits > {n}",
               "customer.tier != 'bronze' || customer.spend > {n}.0", "'seg_x' in customer.segments || true"]


def seed(engine: Engine, count: int) -> None:
    customers.create_customer(engine, CustomerIn(id="c1", attributes={
        "age": 34, "country": "DE", "visits": 12, "tier": "silver", "spend": 420.5, "name": "Ada"}))
    for n in range(count):
        offers.create_offer(engine, OfferIn(
            id=f"off_{n:03d}", name=f"Offer {n}", category=("a", "b", "c")[n % 3],
            eligibility=ELIGIBILITY[n % len(ELIGIBILITY)].format(n=n % 40),
            propensity=f"customer.visits > {n % 20} ? 0.{n % 9 + 1} : 0.05" if n % 2 else (n % 10 + 1) / 11,
            business_value=10 + n * 3 % 97, priority=1 + n % 4))
    offers.create_decision_flow(engine, DecisionFlowIn(
        id="flow", name="Bench", categories=["a", "b", "c"], max_offers=3,
        rules=["customer.age >= 18", "offer.businessValue < 100.0",
               {"expression": "offer.category == 'b'", "relevance": 1.5}],
        contact_policy={"maxPerOffer": 2, "windowDays": 7, "maxPerDay": 50}))
    moment = engine.now()
    with engine.session() as s:
        for n in range(0, count, 7):
            s.add(Delivery(id=new_id("dlv"), idempotency_key=new_id("k"), customer_id="c1", channel_id="ch",
                           offer_id=f"off_{n:03d}", status="sent", created_at=moment - timedelta(hours=n)))


def rate(action: Callable[[], object], seconds: float) -> float:
    """Calls per second of `action`, after one warm-up call."""
    action()
    calls, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        action()
        calls += 1
    return calls / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = startup.start(Settings(database_url=f"sqlite:///{folder}/bench.db", demo=False,
                                        scheduler=False), VirtualClock())
        seed(engine, args.offers)
        with engine.session() as s:
            view = customers.customer_view(s, "c1")
            assert view is not None
            expressions = [(row.eligibility, decisions.offer_variables(row))
                           for row in s.execute(select(Offer)).scalars()]
            now = engine.now()
            first = decisions.decide(engine, s, view, "flow", None, now)

            def baseline() -> None:
                for expression, offer in expressions:
                    is_true(engine, expression, {"customer": view, "offer": offer, "now": now})

            base = rate(baseline, args.seconds)
            decide = rate(lambda: decisions.decide(engine, s, view, "flow", None, now), args.seconds)
        api = rate(lambda: decisions.recommend(engine, "c1", "flow"), args.seconds)
        engine.close()
    print(f"offers: {args.offers}; returned {len(first.offers)}, dropped {len(first.trace)} (trace entries)")
    print(f"decide (one session, customer loaded):  {decide:8.1f} decisions/s  ({1000 / decide:.2f} ms each)")
    print(f"recommend (session + customer + decide): {api:8.1f} decisions/s  ({1000 / api:.2f} ms each)")
    print(f"baseline, {args.offers} eligibility expressions alone: {base:8.1f} sets/s ({1000 / base:.2f} ms)")
    print(f"decide costs {base / decide:.2f}x the bare eligibility evaluations")


if __name__ == "__main__":
    main()
