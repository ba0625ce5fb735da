"""Events: accepted into the engine (entry triggers, `untilEvent` waits) and listed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import ValidationError

from engine.audience import events
from engine.errors import Invalid
from models.audience import EventBatch, EventIn
from ui.api.paging import Paging, paging

router = APIRouter(tags=["events"])


@router.post("/events", status_code=202)
def post_events(body: dict[str, Any] = Body(..., examples=[
        {"customerId": "c1", "type": "purchase", "properties": {"amount": 20}}])) -> dict[str, Any]:
    """One event object, or `{"events": [...]}` with up to 1000; every customer must exist (else 422)."""
    single = "events" not in body
    try:
        items = [EventIn.model_validate(body)] if single else EventBatch.model_validate(body).events
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ())) or "body"
        raise Invalid(f"{field}: {first.get('msg', 'invalid')}", field=field) from error
    ids = events.accept(items, single=single)
    return {"accepted": len(ids), "ids": ids}


@router.get("/events")
def list_events(customer_id: str | None = Query(None, alias="customerId", max_length=128),
                type: str | None = Query(None, max_length=120),
                page: Paging = Depends(paging)) -> dict[str, Any]:
    return events.list_events(customer_id=customer_id, type=type, limit=page.limit, offset=page.offset)
