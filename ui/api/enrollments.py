"""Enrollments: list and filter, one with its history, retry a failed one, exit an active one."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query

from engine.runtime import enrollments
from models.common import NO_NUL
from ui.api.paging import Paging, paging
from ui.dependencies import EngineDep

router = APIRouter(tags=["enrollments"])


@router.get("/enrollments")
def list_enrollments(
    engine: EngineDep,
    journey_id: str | None = Query(None, pattern=NO_NUL, alias="journeyId", max_length=64),
    status: Literal["active", "completed", "exited", "failed"] | None = Query(None),
    step_id: str | None = Query(None, pattern=NO_NUL, alias="stepId", max_length=64),
    customer_id: str | None = Query(None, pattern=NO_NUL, alias="customerId", max_length=128),
    page: Paging = Depends(paging),
) -> dict[str, Any]:
    return enrollments.list_enrollments(engine, journey_id, status, step_id, customer_id, page.limit,
                                        page.offset)


@router.get("/enrollments/{enrollment_id}")
def get_enrollment(engine: EngineDep, enrollment_id: str) -> dict[str, Any]:
    """The enrollment with `history: [{stepId, type, at, outcome, detail, version}]`, oldest first."""
    return enrollments.get_enrollment(engine, enrollment_id)


@router.post("/enrollments/{enrollment_id}/retry")
def retry_enrollment(engine: EngineDep, enrollment_id: str) -> dict[str, Any]:
    """Put a failed enrollment back to active at the step that failed (409 unless failed)."""
    return enrollments.retry_enrollment(engine, enrollment_id)


@router.post("/enrollments/{enrollment_id}/exit")
def exit_enrollment(engine: EngineDep, enrollment_id: str) -> dict[str, Any]:
    """End an active enrollment by hand (reason `manual`; 409 unless active)."""
    return enrollments.exit_enrollment(engine, enrollment_id)
