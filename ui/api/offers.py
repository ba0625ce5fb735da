"""Offers: the catalogue the decision flows choose from."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from engine import offers
from models.offers import OfferFields, OfferIn
from ui.api.paging import Paging, paging

router = APIRouter(tags=["offers"])


@router.post("/offers", status_code=201)
def create_offer(body: OfferIn) -> dict[str, Any]:
    return offers.create_offer(body)


@router.get("/offers")
def list_offers(search: str | None = Query(None, max_length=200),
                status: Literal["active", "inactive"] | None = None,
                page: Paging = Depends(paging)) -> dict[str, Any]:
    return offers.list_offers(search=search, status=status, limit=page.limit, offset=page.offset)


@router.get("/offers/{offer_id}")
def get_offer(offer_id: str) -> dict[str, Any]:
    return offers.get_offer(offer_id)


@router.patch("/offers/{offer_id}")
@router.put("/offers/{offer_id}")
def update_offer(offer_id: str, body: OfferFields) -> dict[str, Any]:
    """Change the fields sent; the rest stay as they are."""
    return offers.update_offer(offer_id, body)


@router.delete("/offers/{offer_id}", status_code=204)
def delete_offer(offer_id: str) -> Response:
    offers.delete_offer(offer_id)
    return Response(status_code=204)
