"""Decision flows, and `POST /recommend` which runs one for a customer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Response

from engine import decisioning, offers
from models.offers import DecisionFlowFields, DecisionFlowIn, RecommendIn
from ui.api.paging import Paging, paging

router = APIRouter(tags=["decisioning"])


@router.post("/decision-flows", status_code=201)
def create_decision_flow(body: DecisionFlowIn) -> dict[str, Any]:
    return offers.create_decision_flow(body)


@router.get("/decision-flows")
def list_decision_flows(search: str | None = Query(None, max_length=200),
                        page: Paging = Depends(paging)) -> dict[str, Any]:
    return offers.list_decision_flows(search=search, limit=page.limit, offset=page.offset)


@router.get("/decision-flows/{flow_id}")
def get_decision_flow(flow_id: str) -> dict[str, Any]:
    return offers.get_decision_flow(flow_id)


@router.patch("/decision-flows/{flow_id}")
@router.put("/decision-flows/{flow_id}")
def update_decision_flow(flow_id: str, body: DecisionFlowFields) -> dict[str, Any]:
    return offers.update_decision_flow(flow_id, body)


@router.delete("/decision-flows/{flow_id}", status_code=204)
def delete_decision_flow(flow_id: str) -> Response:
    offers.delete_decision_flow(flow_id)
    return Response(status_code=204)


@router.post("/recommend")
def recommend_offers(body: RecommendIn) -> dict[str, Any]:
    """Rank the flow's offers for the customer: `{"offers": [...], "trace": [...]}`."""
    return decisioning.recommend(body.customer_id, body.decision_flow_id, body.limit)
