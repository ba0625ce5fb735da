"""The offer catalogue: offers and the decision flows that choose among them (create, read, update, delete).

Expressions and templates are checked when written, so a bad one is a 422 naming its field, not a
surprise at decision time.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from engine import templates
from engine.engine import Engine
from engine.errors import Invalid
from engine.expressions import Limits, syntax_error
from engine.ids import new_id
from engine.paging import paginate
from engine.records import fetch, insert_new, matching
from engine.references import check_unused
from models.common import iso
from models.offers import DecisionFlow, DecisionFlowFields, DecisionFlowIn, Offer, OfferFields, OfferIn

# The fields an update may carry (schema field names are the column names).
_OFFER_COLUMNS = ("name", "description", "category", "status", "eligibility", "propensity", "business_value",
                  "priority", "start_date", "end_date", "creatives")
_OFFER_DEFAULTS = {"description": "", "category": "", "status": "active", "propensity": 0.5,
                   "business_value": 1.0, "priority": 1.0, "creatives": {}}


# ---- offers ------------------------------------------------------------------------------------------

def create_offer(engine: Engine, data: OfferIn) -> dict[str, Any]:
    values = {**deepcopy(_OFFER_DEFAULTS), **_given(data, _OFFER_COLUMNS, _OFFER_DEFAULTS)}
    _check_offer(values, Limits.of(engine.settings))
    with engine.session() as s:
        return offer_out(insert_new(s, Offer, "offer", data.id or new_id("off"), values, engine.now()))


def get_offer(engine: Engine, offer_id: str) -> dict[str, Any]:
    with engine.reader() as s:
        return offer_out(fetch(s, Offer, offer_id, "offer"))


def list_offers(engine: Engine, search: str | None = None, status: str | None = None, limit: int = 50,
                offset: int = 0) -> dict[str, Any]:
    with engine.reader() as s:
        statement = matching(select(Offer).order_by(Offer.name, Offer.id), search, Offer.id, Offer.name,
                             Offer.category)
        if status:
            statement = statement.where(Offer.status == status)
        return paginate(s, statement, limit, offset, offer_out)


def update_offer(engine: Engine, offer_id: str, data: OfferFields) -> dict[str, Any]:
    """Change the fields given (null clears eligibility and dates, and resets the others to their default)."""
    with engine.session() as s:
        row = fetch(s, Offer, offer_id, "offer")
        changes = _given(data, _OFFER_COLUMNS, _OFFER_DEFAULTS)
        _check_offer(_with(row, _OFFER_COLUMNS, changes), Limits.of(engine.settings))
        _change(engine, row, changes)
        return offer_out(row)


def delete_offer(engine: Engine, offer_id: str) -> None:
    """Delete an offer that no decision flow lists by id and no journey sends (409 naming them otherwise)."""
    with engine.session() as s:
        row = fetch(s, Offer, offer_id, "offer")
        flows = [flow.id for flow in s.execute(select(DecisionFlow)).scalars() if offer_id in flow.offer_ids]
        check_unused(s, "offer", offer_id, decision_flows=flows)
        s.delete(row)


def offer_out(row: Offer) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "description": row.description, "category": row.category,
            "status": row.status, "eligibility": row.eligibility, "propensity": row.propensity,
            "businessValue": row.business_value, "priority": row.priority, "startDate": iso(row.start_date),
            "endDate": iso(row.end_date), "creatives": row.creatives, "createdAt": iso(row.created_at),
            "updatedAt": iso(row.updated_at)}


def _check_offer(values: dict[str, Any], limits: Limits) -> None:
    for field in ("eligibility", "propensity"):
        expression = values.get(field)
        if isinstance(expression, str):
            reason = syntax_error(expression, limits)
            if reason:
                raise Invalid(f"{field}: {reason}", field=field)
    start, end = values.get("start_date"), values.get("end_date")
    if start and end and end < start:
        raise Invalid("endDate: must not be before startDate", field="endDate")
    for channel, creative in (values.get("creatives") or {}).items():
        for part in ("subject", "body"):
            source = (creative or {}).get(part)
            reason = templates.check(source) if source else None
            if reason:
                raise Invalid(f"creatives.{channel}.{part}: {reason}", field=f"creatives.{channel}.{part}")


# ---- decision flows ----------------------------------------------------------------------------------

_FLOW_COLUMNS = ("name", "description", "offer_ids", "categories", "rules", "contact_policy", "weights",
                 "max_offers")
_FLOW_DEFAULTS = {"description": "", "offer_ids": [], "categories": [], "rules": [], "contact_policy": {},
                  "weights": {"propensity": 1.0, "relevance": 1.0, "impact": 1.0, "emphasis": 1.0},
                  "max_offers": 1}


def create_decision_flow(engine: Engine, data: DecisionFlowIn) -> dict[str, Any]:
    values = {**deepcopy(_FLOW_DEFAULTS), **_given(data, _FLOW_COLUMNS, _FLOW_DEFAULTS)}
    with engine.session() as s:
        _check_flow(s, values, Limits.of(engine.settings))
        flow_id = data.id or new_id("dfl")
        return flow_out(insert_new(s, DecisionFlow, "decision flow", flow_id, values, engine.now()))


def get_decision_flow(engine: Engine, flow_id: str) -> dict[str, Any]:
    with engine.reader() as s:
        return flow_out(fetch(s, DecisionFlow, flow_id, "decision flow"))


def list_decision_flows(
    engine: Engine, search: str | None = None, limit: int = 50, offset: int = 0
) -> dict[str, Any]:
    with engine.reader() as s:
        statement = matching(select(DecisionFlow).order_by(DecisionFlow.name, DecisionFlow.id), search,
                             DecisionFlow.id, DecisionFlow.name)
        return paginate(s, statement, limit, offset, flow_out)


def update_decision_flow(engine: Engine, flow_id: str, data: DecisionFlowFields) -> dict[str, Any]:
    with engine.session() as s:
        row = fetch(s, DecisionFlow, flow_id, "decision flow")
        changes = _given(data, _FLOW_COLUMNS, _FLOW_DEFAULTS)
        _check_flow(s, _with(row, _FLOW_COLUMNS, changes), Limits.of(engine.settings))
        _change(engine, row, changes)
        return flow_out(row)


def delete_decision_flow(engine: Engine, flow_id: str) -> None:
    """Delete a decision flow no journey decides with (409 naming the journeys otherwise)."""
    with engine.session() as s:
        row = fetch(s, DecisionFlow, flow_id, "decision flow")
        check_unused(s, "decision flow", flow_id)
        s.delete(row)


def flow_out(row: DecisionFlow) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "description": row.description, "offerIds": row.offer_ids,
            "categories": row.categories, "rules": row.rules, "contactPolicy": row.contact_policy,
            "weights": row.weights, "maxOffers": row.max_offers, "createdAt": iso(row.created_at),
            "updatedAt": iso(row.updated_at)}


def _check_flow(session: Session, values: dict[str, Any], limits: Limits) -> None:
    for index, rule in enumerate(values.get("rules") or []):
        expression, field = (rule, f"rules.{index}") if isinstance(rule, str) else (
            rule.get("expression", ""), f"rules.{index}.expression")
        reason = syntax_error(expression, limits)
        if reason:
            raise Invalid(f"{field}: {reason}", field=field)
    wanted = list(dict.fromkeys(values.get("offer_ids") or []))
    if wanted:
        known = set(session.execute(select(Offer.id).where(Offer.id.in_(wanted))).scalars())
        unknown = [offer_id for offer_id in wanted if offer_id not in known]
        if unknown:
            raise Invalid(f"offerIds: unknown offer {unknown[0]}",
                          details={"field": "offerIds", "unknown": unknown[:50]})


def _with(row: Offer | DecisionFlow, columns: tuple[str, ...], changes: dict[str, Any]) -> dict[str, Any]:
    """The row's column values as they would be after `changes` (what the checks look at)."""
    return {**{column: getattr(row, column) for column in columns}, **changes}


def _change(engine: Engine, row: Offer | DecisionFlow, changes: dict[str, Any]) -> None:
    for column, value in changes.items():
        setattr(row, column, value)
    row.updated_at = engine.now()


def _given(data: OfferFields | DecisionFlowFields, columns: tuple[str, ...],
           defaults: dict[str, Any]) -> dict[str, Any]:
    """The fields the caller actually sent, as column values (nested models as camelCase dicts).

    A null resets a field that has a default to it (and clears one that has none, like eligibility).
    """
    dumped = data.model_dump(by_alias=True, exclude_none=True)  # nested nulls are not stored either
    fields = type(data).model_fields
    values = {name: dumped.get(fields[name].alias or name) for name in data.model_fields_set & set(columns)}
    return {name: deepcopy(defaults.get(name)) if value is None else value for name, value in values.items()}
