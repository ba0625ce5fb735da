"""Offers: the catalogue the decision flows choose from."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query

from engine.decisioning import offers
from models.common import NO_NUL
from models.offers import OfferFields, OfferIn
from ui.api.item_routes import add_item_routes
from ui.api.paging import Paging, paging
from ui.dependencies import EngineDep

router = APIRouter(tags=["offers"])


@router.post("/offers", status_code=201)
def create_offer(engine: EngineDep, body: OfferIn) -> dict[str, Any]:
    return offers.create_offer(engine, body)


@router.get("/offers")
def list_offers(engine: EngineDep, search: str | None = Query(None, pattern=NO_NUL, max_length=200),
                status: Literal["active", "inactive"] | None = None,
                page: Paging = Depends(paging)) -> dict[str, Any]:
    return offers.list_offers(engine, search=search, status=status, limit=page.limit, offset=page.offset)


add_item_routes(router, "/offers/{offer_id}", get=offers.get_offer, update=offers.update_offer,
                delete=offers.delete_offer, body=OfferFields,
                update_doc="Change the fields sent; the rest stay as they are.")
