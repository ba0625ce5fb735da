"""Contact policy, counted from the delivery log: the one rule both the decide step (which drops the offer
from its ranking, with a trace entry) and the outbox (which stores the delivery as suppressed) apply.

A policy is `{"maxPerOffer", "windowDays", "maxPerDay"}`. Deliveries count while queued or sent (not
failed or suppressed): `maxPerOffer` of one offer to the customer within the last `windowDays` days (7,
a decision flow's default, when not given), `maxPerDay` of any offer to the customer in the last 24 hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlmodel import Session

from models.channels import Delivery

COUNTED_STATUSES = ("queued", "sent")
DEFAULT_WINDOW_DAYS = 7.0

_deliveries = Delivery.__table__
# Built once: the outbox checks the policy inside every runner batch.
_TO_CUSTOMER = select(func.count()).select_from(_deliveries).where(
    _deliveries.c.customer_id == bindparam("customer"), _deliveries.c.status.in_(COUNTED_STATUSES),
    _deliveries.c.created_at > bindparam("since"))
_PER_OFFER = (
    select(_deliveries.c.offer_id, func.count())
    .where(_deliveries.c.customer_id == bindparam("customer"), _deliveries.c.status.in_(COUNTED_STATUSES),
           _deliveries.c.created_at > bindparam("since"),
           _deliveries.c.offer_id.in_(bindparam("offers", expanding=True)))
    .group_by(_deliveries.c.offer_id)
)


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


def breaches(session: Session, customer_id: str, offer_ids: Sequence[str | None], policy: dict[str, Any],
             now: datetime) -> dict[str | None, Breach]:
    """The offers among `offer_ids` (None: a delivery of no offer) that one more delivery to the customer
    would take past `policy`, each with the rule it breaks; a spent daily cap blocks every one.

    Reads through the session's connection (the outbox writes its rows there; pending ORM objects are
    not flushed first).
    """
    connection = session.connection()
    max_per_day = policy.get("maxPerDay")
    if max_per_day is not None and offer_ids:
        today = connection.execute(_TO_CUSTOMER, {"customer": customer_id,
                                                  "since": now - timedelta(days=1)}).scalar_one()
        if today >= int(max_per_day):
            breach = Breach("maxPerDay", today, int(max_per_day), 1.0)
            return dict.fromkeys(offer_ids, breach)
    max_per_offer = policy.get("maxPerOffer")
    offers = [offer_id for offer_id in offer_ids if offer_id is not None]
    if max_per_offer is None or not offers:
        return {}
    window = float(policy.get("windowDays") or DEFAULT_WINDOW_DAYS)
    sends = dict(connection.execute(_PER_OFFER, {"customer": customer_id, "offers": offers,
                                                 "since": now - timedelta(days=window)}).all())
    found = {offer_id: sends.get(offer_id, 0) for offer_id in offers}
    return {offer_id: Breach("maxPerOffer", count, int(max_per_offer), window)
            for offer_id, count in found.items() if count >= int(max_per_offer)}
