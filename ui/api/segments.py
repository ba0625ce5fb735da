"""Segments: rule and static, their members, counts and change log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from engine.audience import segments
from models.audience import SegmentIn, SegmentMembersChange, SegmentUpdate
from ui.api.item_routes import add_collection_routes, add_item_routes
from ui.api.paging import Paging, paging
from ui.dependencies import EngineDep

router = APIRouter(tags=["segments"])


add_collection_routes(router, "/segments", create=segments.create_segment, body=SegmentIn,
                      search=segments.list_segments)


add_item_routes(router, "/segments/{segment_id}", get=segments.get_segment, update=segments.update_segment,
                delete=segments.delete_segment, body=SegmentUpdate,
                update_doc="Rename, or change the rule (every customer is re-evaluated).")


@router.get("/segments/{segment_id}/members")
def list_members(engine: EngineDep, segment_id: str, page: Paging = Depends(paging)) -> dict[str, Any]:
    return segments.list_members(engine, segment_id, limit=page.limit, offset=page.offset)


@router.post("/segments/{segment_id}/members")
def change_members(engine: EngineDep, segment_id: str, body: SegmentMembersChange) -> dict[str, Any]:
    """Static segments only: `{"add": [customer ids], "remove": [customer ids]}`."""
    return segments.change_members(engine, segment_id, body.add, body.remove)


@router.get("/segments/{segment_id}/count")
def member_count(engine: EngineDep, segment_id: str) -> dict[str, Any]:
    return {"segmentId": segment_id, "count": segments.member_count(engine, segment_id)}


@router.get("/segments/{segment_id}/changes")
def list_changes(engine: EngineDep, segment_id: str, page: Paging = Depends(paging)) -> dict[str, Any]:
    """Who joined and left, newest first."""
    return segments.list_changes(engine, segment_id, limit=page.limit, offset=page.offset)
