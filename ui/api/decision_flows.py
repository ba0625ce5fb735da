"""Decision flows, and `POST /recommend` which runs one for a customer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from engine.decisioning import decisions, offers
from models.offers import DecisionFlowFields, DecisionFlowIn, RecommendIn
from ui.api.item_routes import add_collection_routes, add_item_routes
from ui.dependencies import EngineDep

router = APIRouter(tags=["decisioning"])


add_collection_routes(router, "/decision-flows", create=offers.create_decision_flow, body=DecisionFlowIn,
                      search=offers.list_decision_flows)


add_item_routes(router, "/decision-flows/{flow_id}", get=offers.get_decision_flow,
                update=offers.update_decision_flow, delete=offers.delete_decision_flow,
                body=DecisionFlowFields)


@router.post("/recommend")
def recommend_offers(engine: EngineDep, body: RecommendIn) -> dict[str, Any]:
    """Rank the flow's offers for the customer: `{"offers": [...], "trace": [...]}`."""
    return decisions.recommend(engine, body.customer_id, body.decision_flow_id, body.limit)
