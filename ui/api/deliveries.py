"""The outbox (deliveries with attempts), a customer's in-app inbox, and responses."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query

from engine.delivery import deliveries, responses
from models.channels import RespondIn
from models.common import NO_NUL
from ui.api.paging import Paging, paging
from ui.dependencies import EngineDep

router = APIRouter(tags=["deliveries"])


@router.get("/deliveries")
def list_deliveries(engine: EngineDep,
                    customer_id: str | None = Query(None, pattern=NO_NUL, alias="customerId"),
                    channel_id: str | None = Query(None, pattern=NO_NUL, alias="channelId"),
                    status: Literal["queued", "sent", "failed", "suppressed"] | None = Query(None),
                    journey_id: str | None = Query(None, pattern=NO_NUL, alias="journeyId"),
                    page: Paging = Depends(paging)) -> dict[str, Any]:
    return deliveries.list_deliveries(engine, customer_id=customer_id, channel_id=channel_id, status=status,
                                      journey_id=journey_id, limit=page.limit, offset=page.offset)


@router.get("/deliveries/{delivery_id}")
def get_delivery(engine: EngineDep, delivery_id: str) -> dict[str, Any]:
    """One delivery with its rendered subject/body and `attemptLog` (every attempt, oldest first)."""
    return deliveries.get_delivery(engine, delivery_id)


@router.get("/customers/{customer_id}/inbox")
def customer_inbox(engine: EngineDep, customer_id: str, page: Paging = Depends(paging)) -> dict[str, Any]:
    return deliveries.inbox(engine, customer_id, limit=page.limit, offset=page.offset)


@router.post("/customers/{customer_id}/inbox/{message_id}/read")
def read_message(engine: EngineDep, customer_id: str, message_id: str) -> dict[str, Any]:
    """Mark an in-app message read; the first read records an `impression` response to its delivery."""
    return responses.mark_read(engine, customer_id, message_id)


@router.post("/respond", status_code=201)
def respond(engine: EngineDep, body: RespondIn) -> dict[str, Any]:
    """Record an outcome (impression, click, conversion, dismiss) for `deliveryId`, or for the latest
    delivery of `offerId` to `customerId`."""
    return responses.record_response(engine, body.outcome, delivery_id=body.delivery_id,
                                     customer_id=body.customer_id, offer_id=body.offer_id)


@router.get("/responses")
def list_responses(engine: EngineDep,
                   customer_id: str | None = Query(None, pattern=NO_NUL, alias="customerId"),
                   delivery_id: str | None = Query(None, pattern=NO_NUL, alias="deliveryId"),
                   enrollment_id: str | None = Query(None, pattern=NO_NUL, alias="enrollmentId"),
                   page: Paging = Depends(paging)) -> dict[str, Any]:
    return responses.list_responses(engine, customer_id=customer_id, delivery_id=delivery_id,
                                    enrollment_id=enrollment_id, limit=page.limit, offset=page.offset)
