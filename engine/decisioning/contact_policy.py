"""Contact policy, counted from the delivery log: the one rule both the decide step (which drops the offer
from its ranking, with a trace entry) and the outbox (which stores the delivery as suppressed) apply.

A policy is `{"maxPerOffer", "windowDays", "maxPerDay"}`. Deliveries count while queued or sent (not
failed or suppressed): `maxPerOffer` of one offer to the customer within the last `windowDays` days (7,
a decision flow's default, when not given), `maxPerDay` of any offer to the customer in the last 24 hours.

A unit of work that names its customers up front (`loaded.policy_customers`, as a runner batch does) reads
the recent deliveries of all of them in one query the first time one is checked, and keeps them in
`loaded.policy_sends`: the outbox `record`s each row it queues in that unit of work, and a step's savepoint
that rolls back drops what was read (it is read again: UnitOfWork.savepoint).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, literal, or_, select

from engine.unit_of_work import PolicySends, UnitOfWork
from models.channels import Delivery

COUNTED_STATUSES = ("queued", "sent")
DEFAULT_WINDOW_DAYS = 7.0

_deliveries = Delivery.__table__
# The customer's counted deliveries since the earlier of the two window starts, counted here: a customer
# has few, and one statement with a single bound time answers both rules at about half the cost of
# counting in SQL (each bound datetime and expanded IN list costs more than the rows). Built once: the
# decide step and the outbox check the policy inside every runner batch.
_RECENT = select(_deliveries.c.offer_id, _deliveries.c.created_at).where(
    _deliveries.c.customer_id == bindparam("customer"),
    or_(*(_deliveries.c.status == literal(status) for status in COUNTED_STATUSES)),
    _deliveries.c.created_at > bindparam("since"))
_RECENT_OF_MANY = select(_deliveries.c.customer_id, _deliveries.c.offer_id, _deliveries.c.created_at).where(
    _deliveries.c.customer_id.in_(bindparam("customers", expanding=True)),
    or_(*(_deliveries.c.status == literal(status) for status in COUNTED_STATUSES)),
    _deliveries.c.created_at > bindparam("since"))
# Customers per query when loading a batch's deliveries (well under every driver's parameter limit).
CHUNK = 900
Sends = list[tuple[str | None, datetime]]


@dataclass(frozen=True)
class Breach:
    """The rule one more delivery would break, with the count it found."""

    rule: str  # "maxPerOffer" or "maxPerDay"
    count: int
    cap: int
    window_days: float

    @property
    def reason(self) -> str:
        if self.rule == "maxPerDay":
            return f"{self.count} sends in the last 24 hours (cap {self.cap})"
        return f"{self.count} sends in the last {self.window_days:g} days (cap {self.cap})"


def breaches(uow: UnitOfWork, customer_id: str, offer_ids: Sequence[str | None], policy: dict[str, Any],
             now: datetime) -> dict[str | None, Breach]:
    """The offers among `offer_ids` (None: a delivery of no offer) that one more delivery to the customer
    would take past `policy`, each with the rule it breaks; a spent daily cap blocks every one.

    Reads through the unit of work's connection (the outbox writes its rows there; pending ORM objects are
    not flushed first).
    """
    max_per_day, max_per_offer = policy.get("maxPerDay"), policy.get("maxPerOffer")
    offers = [offer_id for offer_id in offer_ids if offer_id is not None]
    checks_day = max_per_day is not None and bool(offer_ids)
    checks_offers = max_per_offer is not None and bool(offers)
    if not checks_day and not checks_offers:
        return {}
    window = float(policy.get("windowDays") or DEFAULT_WINDOW_DAYS)
    day_start, window_start = now - timedelta(days=1), now - timedelta(days=window)
    since = min(day_start, window_start) if checks_offers else day_start
    rows = _recent(uow, customer_id, since)
    if checks_day:
        today = sum(1 for _offer, at in rows if at > day_start)
        if today >= int(max_per_day):
            return dict.fromkeys(offer_ids, Breach("maxPerDay", today, int(max_per_day), 1.0))
    if not checks_offers:
        return {}
    sends: dict[str, int] = {}
    for offer_id, at in rows:
        if offer_id is not None and at > window_start:
            sends[offer_id] = sends.get(offer_id, 0) + 1
    cap = int(max_per_offer)
    return {offer_id: Breach("maxPerOffer", sends[offer_id], cap, window)
            for offer_id in offers if sends.get(offer_id, 0) >= cap}


def record(uow: UnitOfWork, customer_id: str, offer_id: str | None, at: datetime) -> None:
    """A counted delivery was just written in `uow`: later checks in it count it too."""
    loaded = uow.loaded.policy_sends
    if loaded is not None and customer_id in loaded.sends:
        loaded.sends[customer_id].append((offer_id, at))


def _recent(uow: UnitOfWork, customer_id: str, since: datetime) -> Sends:
    """The customer's counted deliveries since `since`: from the batch's load when it names the customer."""
    customers = uow.loaded.policy_customers
    if customer_id not in customers:
        rows = uow.session.connection().execute(_RECENT, {"customer": customer_id, "since": since})
        return [(offer_id, at) for offer_id, at in rows]
    loaded = uow.loaded.policy_sends
    if loaded is None or since < loaded.since:
        loaded = uow.loaded.policy_sends = _load(uow, sorted(customers), since)
    return [(offer_id, at) for offer_id, at in loaded.sends[customer_id] if at > since]


def _load(uow: UnitOfWork, customer_ids: list[str], since: datetime) -> PolicySends:
    sends: dict[str, Sends] = {customer_id: [] for customer_id in customer_ids}
    connection = uow.session.connection()
    for start in range(0, len(customer_ids), CHUNK):
        rows = connection.execute(_RECENT_OF_MANY, {"customers": customer_ids[start:start + CHUNK],
                                                    "since": since})
        for customer_id, offer_id, at in rows:
            sends[customer_id].append((offer_id, at))
    return PolicySends(since, sends)
