"""Segments: rule and static, their members, counts and change log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from engine import segments
from models.audience import SegmentIn, SegmentMembersChange, SegmentUpdate
from ui.api.item_routes import add_item_routes
from ui.api.paging import Paging, paging

router = APIRouter(tags=["segments"])


@router.post("/segments", status_code=201)
def create_segment(body: SegmentIn) -> dict[str, Any]:
    return segments.create_segment(body)


@router.get("/segments")
def list_segments(search: str | None = Query(None, max_length=200),
                  page: Paging = Depends(paging)) -> dict[str, Any]:
    return segments.list_segments(search=search, limit=page.limit, offset=page.offset)


add_item_routes(router, "/segments/{segment_id}", get=segments.get_segment, update=segments.update_segment,
                delete=segments.delete_segment, body=SegmentUpdate,
                update_doc="Rename, or change the rule (every customer is re-evaluated).")


@router.get("/segments/{segment_id}/members")
def list_members(segment_id: str, page: Paging = Depends(paging)) -> dict[str, Any]:
    return segments.list_members(segment_id, limit=page.limit, offset=page.offset)


@router.post("/segments/{segment_id}/members")
def change_members(segment_id: str, body: SegmentMembersChange) -> dict[str, Any]:
    """Static segments only: `{"add": [customer ids], "remove": [customer ids]}`."""
    return segments.change_members(segment_id, body.add, body.remove)


@router.get("/segments/{segment_id}/count")
def member_count(segment_id: str) -> dict[str, Any]:
    return {"segmentId": segment_id, "count": segments.member_count(segment_id)}


@router.get("/segments/{segment_id}/changes")
def list_changes(segment_id: str, page: Paging = Depends(paging)) -> dict[str, Any]:
    """Who joined and left, newest first."""
    return segments.list_changes(segment_id, limit=page.limit, offset=page.offset)
