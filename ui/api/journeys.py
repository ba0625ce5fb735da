"""REST routes for journeys: CRUD, lifecycle (PUT `status`), validation, versions, export/import.

Thin by design: FastAPI parses the body against the models (422 with the field at fault), the engine
enforces the rules (404/409), and the response models describe the document in OpenAPI. Answers are not
validated against those models again: a journey stored before today's input checks must still read.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Header, Query, Response
from fastapi.encoders import jsonable_encoder

from engine.journeys import lifecycle
from models.common import NO_NUL, ErrorEnvelope
from models.journey import (
    JourneyCreate,
    JourneyDocument,
    JourneyImport,
    JourneyOut,
    JourneyPage,
    JourneyStatus,
    JourneyUpdate,
    JourneyVersionList,
    ValidationResult,
)
from ui.api.paging import Paging, paging
from ui.dependencies import EngineDep

router = APIRouter(tags=["journeys"])

Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = {404: {"model": ErrorEnvelope, "description": "no such journey"}}
CONFLICT: Responses = {409: {"model": ErrorEnvelope, "description": "lifecycle conflict"}}
STALE: Responses = {412: {"model": ErrorEnvelope,
                          "description": "`stale`: If-Match does not name the journey's current ETag"}}
INVALID: Responses = {422: {"model": ErrorEnvelope, "description": "invalid input, naming the field"}}


def described(model: type, status: int = 200, *errors: Responses) -> dict[str, Any]:
    """Route options: `model` documents the answer, which is sent as the engine made it (see above)."""
    documented: Responses = {status: {"model": model}, **INVALID}
    for more in errors:
        documented.update(more)
    return {"response_model": None, "responses": documented}


def answer(value: Any) -> Any:
    return jsonable_encoder(value, by_alias=True, exclude_none=True)


def tagged(response: Response, journey: JourneyOut) -> Any:
    """The journey as the answer, with its revision as the ETag (what a writer sends back in If-Match)."""
    response.headers["ETag"] = f'"{journey.revision}"'
    return answer(journey)


def accepted_revisions(if_match: str | None) -> set[int] | None:
    """The revisions an If-Match header accepts; None when it sets no condition (absent, or `*`).
    Weak tags never match (If-Match compares strongly), nor does anything that is not one of our ETags."""
    if if_match is None or if_match.strip() == "*":
        return None
    tags = (tag.strip() for tag in if_match.split(","))
    return {int(tag[1:-1]) for tag in tags
            if len(tag) > 2 and tag[0] == tag[-1] == '"' and tag[1:-1].isascii() and tag[1:-1].isdigit()}


@router.get("/journeys", **described(JourneyPage))
def list_journeys(
    engine: EngineDep,
    status: JourneyStatus | None = Query(None, description="only journeys in this status"),
    search: str | None = Query(None, pattern=NO_NUL, max_length=255, description="part of the name or id"),
    page: Paging = Depends(paging),
) -> Any:
    return answer(lifecycle.list_journeys(engine, status=status, limit=page.limit, offset=page.offset,
                                          search=search))


@router.post("/journeys", status_code=201, **described(JourneyDocument, 201))
def create_journey(engine: EngineDep, body: JourneyCreate) -> Any:
    """Create a draft. Drafts may be incomplete: only the document's shape is checked here."""
    return answer(lifecycle.create_journey(engine, body))


@router.post("/journeys/import", status_code=201, **described(JourneyDocument, 201))
def import_journey(engine: EngineDep, body: JourneyImport) -> Any:
    """A draft copy of an exported document, under a new id."""
    return answer(lifecycle.import_journey(engine, body.model_dump(by_alias=True)))


@router.post("/journeys/validate", response_model=ValidationResult)
def validate_document(engine: EngineDep,
                      document: dict[str, Any] = Body(description="a journey document, saved or not")) -> Any:
    """Validate an unsaved document (as the editor does): shape problems are `invalid_shape` issues."""
    return lifecycle.validate_document(engine, document)


@router.get("/journeys/{journey_id}", **described(JourneyDocument, 200, NOT_FOUND))
def get_journey(engine: EngineDep, journey_id: str, response: Response) -> Any:
    """The journey, with `ETag: "<revision>"`."""
    return tagged(response, lifecycle.get_journey(engine, journey_id))


@router.put("/journeys/{journey_id}", **described(JourneyDocument, 200, NOT_FOUND, CONFLICT, STALE))
def update_journey(engine: EngineDep, journey_id: str, body: JourneyUpdate, response: Response,
                   if_match: str | None = Header(None, description='the ETag you read, e.g. "3"')) -> Any:
    """Change fields (all optional) and/or `status`. Draft: anything. Active: name and description only.
    Paused: structure too, if it validates and no step holding customers is removed. Archived: read-only.
    Fields apply first under the current status's rules, then the status change; all or nothing.
    With `If-Match`, only if the journey is still at that ETag (else 412 `stale`: nothing is overwritten)."""
    return tagged(response, lifecycle.update_journey(engine, journey_id, body, accepted_revisions(if_match)))


@router.delete("/journeys/{journey_id}", status_code=204, responses={**NOT_FOUND, **CONFLICT})
def delete_journey(engine: EngineDep, journey_id: str) -> Response:
    """Only drafts and archived journeys can be deleted."""
    lifecycle.delete_journey(engine, journey_id)
    return Response(status_code=204)


@router.post("/journeys/{journey_id}/validate", response_model=ValidationResult, responses=NOT_FOUND)
def validate_journey(engine: EngineDep, journey_id: str) -> Any:
    """`valid` is true when there are no errors (warnings allowed)."""
    return lifecycle.validate_journey(engine, journey_id)


@router.get("/journeys/{journey_id}/versions", response_model=JourneyVersionList,
            response_model_exclude_none=True, responses=NOT_FOUND)
def list_versions(engine: EngineDep, journey_id: str) -> dict[str, Any]:
    """Every structural definition the journey has had, newest first, the current one included."""
    return {"data": lifecycle.list_versions(engine, journey_id)}


@router.get("/journeys/{journey_id}/export", **described(JourneyDocument, 200, NOT_FOUND))
def export_journey(engine: EngineDep, journey_id: str) -> Any:
    """The document as JSON, ready for `POST /journeys/import`."""
    return answer(lifecycle.export_journey(engine, journey_id))


@router.post("/journeys/{journey_id}/duplicate", status_code=201,
             **described(JourneyDocument, 201, NOT_FOUND))
def duplicate_journey(engine: EngineDep, journey_id: str) -> Any:
    """A draft copy named "<name> (copy)"."""
    return answer(lifecycle.duplicate_journey(engine, journey_id))
