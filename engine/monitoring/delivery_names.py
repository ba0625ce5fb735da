"""Deliveries as a person reads them: each with the names of its customer, channel, offer (None for a message
written in the send step), journey and step beside the ids."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from engine.audience.customer_search import display_name
from engine.delivery import deliveries
from engine.engine import Engine
from engine.journeys.names import journey_name, journeys_named, row_names, step_name, step_names
from models.audience import Customer
from models.channels import Channel
from models.offers import Offer


def list_named_deliveries(engine: Engine, **filters: Any) -> dict[str, Any]:
    """`deliveries.list_deliveries(**filters)` with `customerName`, `channelName`, `offerName`, `journeyName`
    and `stepName` on every item (a name nobody set falls back to the id; a customer without one to "")."""
    page = deliveries.list_deliveries(engine, **filters)
    with engine.db.reader() as s:
        page["data"] = name_deliveries(s, page["data"])
    return page


def get_named_delivery(engine: Engine, delivery_id: str) -> dict[str, Any]:
    """`deliveries.get_delivery` with the names of `name_deliveries`."""
    item = deliveries.get_delivery(engine, delivery_id)
    with engine.db.reader() as s:
        return name_deliveries(s, [item])[0]


def name_deliveries(s: Session, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Wire-form deliveries with their names added (a few key lookups for the whole list)."""
    customers = {row.id: display_name(row.attributes or {}) for row in s.execute(
        select(Customer.id, Customer.attributes).where(Customer.id.in_(_ids(items, "customerId"))))}
    channels = row_names(s, Channel, _ids(items, "channelId"))
    offers = row_names(s, Offer, _ids(items, "offerId"))
    journeys = journeys_named(s, _ids(items, "journeyId"))
    steps = step_names(s, journeys)
    named = []
    for item in items:
        journey_id, offer_id = item.get("journeyId"), item.get("offerId")
        named.append({
            **item,
            "customerName": customers.get(item["customerId"], ""),
            "channelName": channels.get(item["channelId"], item["channelId"]),
            "offerName": offers.get(offer_id, offer_id) if offer_id else None,
            "journeyName": journey_name(journeys, journey_id) if journey_id else None,
            "stepName": step_name(steps, journey_id, item.get("stepId")) if journey_id else None,
        })
    return named


def _ids(items: list[dict[str, Any]], key: str) -> list[str]:
    return sorted({item[key] for item in items if item.get(key)})
