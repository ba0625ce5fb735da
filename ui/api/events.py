"""Events: accepted into the engine (entry triggers, `untilEvent` waits) and listed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import Discriminator, Tag

from engine.audience import events
from models.audience import EventBatch, EventIn
from models.common import NO_NUL
from ui.api.paging import Paging, paging
from ui.dependencies import EngineDep

router = APIRouter(tags=["events"])


def _shape(body: Any) -> str:
    return "batch" if isinstance(body, dict) and "events" in body else "single"


# One event object, or {"events": [...]}: told apart by the `events` key, so a bad field is named as sent
# (`properties`, `events.0.customerId`; the tags are left out of field names).
EventsBody = Annotated[
    Annotated[EventIn, Tag("single")] | Annotated[EventBatch, Tag("batch")],
    Discriminator(_shape),
]


@router.post("/events", status_code=202)
def post_events(engine: EngineDep, body: Annotated[EventsBody, Body(examples=[
        {"customerId": "c1", "type": "purchase", "properties": {"amount": 20}}])]) -> dict[str, Any]:
    """One event object, or `{"events": [...]}` with up to 1000; every customer must exist (else 422)."""
    single = isinstance(body, EventIn)
    ids = events.accept(engine, [body] if single else body.events, single=single)
    return {"accepted": len(ids), "ids": ids}


@router.get("/events")
def list_events(engine: EngineDep,
                customer_id: str | None = Query(None, pattern=NO_NUL, alias="customerId", max_length=128),
                type: str | None = Query(None, pattern=NO_NUL, max_length=120),
                page: Paging = Depends(paging)) -> dict[str, Any]:
    return events.list_events(engine, customer_id=customer_id, type=type, limit=page.limit,
                              offset=page.offset)
