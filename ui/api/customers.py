"""Customers: CRUD, search, bulk import, and each customer's segments."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from anyio import from_thread
from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from engine.audience import customer_import, customers, segments
from models.audience import CustomerIn, CustomerUpdate
from models.common import ErrorEnvelope
from ui.api.item_routes import add_collection_routes, add_item_routes
from ui.dependencies import EngineDep

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
async def import_customers(engine: EngineDep, request: Request) -> dict[str, Any]:
    """JSON lines (`application/x-ndjson`, `application/jsonl`) or CSV (`text/csv`, header with `id`), UTF-8.

    Read as it arrives and written in batches: a line that is not UTF-8 is rejected like any bad line; a
    streamed body cut off at the size cap (413) keeps any batch written before the cut-off.
    """
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fmt = customer_import.IMPORT_FORMATS.get(media)
    if fmt is None:
        raise HTTPException(415, "send application/x-ndjson, application/jsonl or text/csv")
    return await run_in_threadpool(customer_import.import_body, engine, _pulled(request.stream()), fmt)


def _pulled(stream: AsyncIterator[bytes]) -> Iterator[bytes]:
    """The chunks of `stream` for a worker thread: each is awaited on the event loop as the thread asks."""
    while (chunk := from_thread.run(_next_chunk, stream)) is not None:
        yield chunk


async def _next_chunk(stream: AsyncIterator[bytes]) -> bytes | None:
    return await anext(stream, None)


add_item_routes(router, "/customers/{customer_id}", get=customers.get_customer,
                update=customers.update_customer, delete=customers.delete_customer, body=CustomerUpdate,
                update_doc="Merge attributes and flags into the customer (a key set to null is removed).")


@router.get("/customers/{customer_id}/segments")
def customer_segments(engine: EngineDep, customer_id: str) -> list[dict[str, Any]]:
    return segments.customer_segments(engine, customer_id)
