"""Decision flows, and `POST /recommend` which runs one for a customer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from engine import decisioning, offers
from models.offers import DecisionFlowFields, DecisionFlowIn, RecommendIn
from ui.api.item_routes import add_item_routes
from ui.api.paging import Paging, paging

router = APIRouter(tags=["decisioning"])


@router.post("/decision-flows", status_code=201)
def create_decision_flow(body: DecisionFlowIn) -> dict[str, Any]:
    return offers.create_decision_flow(body)


@router.get("/decision-flows")
def list_decision_flows(search: str | None = Query(None, max_length=200),
                        page: Paging = Depends(paging)) -> dict[str, Any]:
    return offers.list_decision_flows(search=search, limit=page.limit, offset=page.offset)


add_item_routes(router, "/decision-flows/{flow_id}", get=offers.get_decision_flow,
                update=offers.update_decision_flow, delete=offers.delete_decision_flow,
                body=DecisionFlowFields)


@router.post("/recommend")
def recommend_offers(body: RecommendIn) -> dict[str, Any]:
    """Rank the flow's offers for the customer: `{"offers": [...], "trace": [...]}`."""
    return decisioning.recommend(body.customer_id, body.decision_flow_id, body.limit)
