"""Segments: rule and static, their members, counts and change log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Response

from engine import segments
from models.audience import SegmentIn, SegmentMembersChange, SegmentUpdate
from ui.api.paging import Paging, paging

router = APIRouter(tags=["segments"])


@router.post("/segments", status_code=201)
def create_segment(body: SegmentIn) -> dict[str, Any]:
    return segments.create_segment(body)


@router.get("/segments")
def list_segments(search: str | None = Query(None, max_length=200),
                  page: Paging = Depends(paging)) -> dict[str, Any]:
    return segments.list_segments(search=search, limit=page.limit, offset=page.offset)


@router.get("/segments/{segment_id}")
def get_segment(segment_id: str) -> dict[str, Any]:
    return segments.get_segment(segment_id)


@router.patch("/segments/{segment_id}")
@router.put("/segments/{segment_id}")
def update_segment(segment_id: str, body: SegmentUpdate) -> dict[str, Any]:
    """Rename, or change the rule (every customer is re-evaluated)."""
    return segments.update_segment(segment_id, body)


@router.delete("/segments/{segment_id}", status_code=204)
def delete_segment(segment_id: str) -> Response:
    segments.delete_segment(segment_id)
    return Response(status_code=204)


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
