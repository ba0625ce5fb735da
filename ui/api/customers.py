"""Customers: CRUD, search, bulk import, and each customer's segments."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from engine.audience import customer_import, customers, segments
from engine.errors import Invalid
from models.audience import CustomerIn, CustomerUpdate
from models.common import ErrorEnvelope
from ui.api.item_routes import add_collection_routes, add_item_routes

router = APIRouter(tags=["customers"])


add_collection_routes(router, "/customers", create=customers.create_customer, body=CustomerIn,
                      search=customers.list_customers)


IMPORT_BODY = {"requestBody": {"required": True, "content": {
    "application/x-ndjson": {"schema": {"type": "string", "description": "one JSON object per line"}},
    "text/csv": {"schema": {"type": "string", "pattern": r"^id(,[^\r\n]*)?(\r?\n[\s\S]*)?$",
                            "description": "a header row with an `id` column, then one customer per row"}},
}}}


@router.post("/customers/import", openapi_extra=IMPORT_BODY, responses={415: {
    "model": ErrorEnvelope, "description": "a body that is neither JSON lines nor CSV"}})
async def import_customers(request: Request) -> dict[str, Any]:
    """JSON lines (`application/x-ndjson`, `application/jsonl`) or CSV (`text/csv`, header with `id`)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fmt = customer_import.IMPORT_FORMATS.get(media)
    if fmt is None:
        raise HTTPException(415, "send application/x-ndjson, application/jsonl or text/csv")
    try:
        text = (await request.body()).decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Invalid("the body must be UTF-8 text", field="body") from error
    return await run_in_threadpool(customer_import.import_customers, text, fmt)


add_item_routes(router, "/customers/{customer_id}", get=customers.get_customer,
                update=customers.update_customer, delete=customers.delete_customer, body=CustomerUpdate,
                update_doc="Merge attributes and flags into the customer (a key set to null is removed).")


@router.get("/customers/{customer_id}/segments")
def customer_segments(customer_id: str) -> list[dict[str, Any]]:
    return segments.customer_segments(customer_id)
