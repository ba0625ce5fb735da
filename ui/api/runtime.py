"""Running journeys: manual enrollment, the virtual-time test run, and where a customer is."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from engine.runtime import enrollments, entry, simulator
from models.enrollment import EnrollRequest, SimulationRequest
from ui.dependencies import EngineDep

router = APIRouter(tags=["runtime"])


@router.post("/journeys/{journey_id}/enroll", status_code=201)
def enroll(engine: EngineDep, journey_id: str, body: EnrollRequest) -> dict[str, Any]:
    """Enroll `customerId` or `customerIds` (≤ 1000) into an active journey (409 otherwise). Unknown customers
    and those the re-entry policy refuses are counted in `skipped`, with reasons in `skippedCustomers`."""
    return entry.enroll(engine, journey_id, body.ids())


@router.post("/journeys/{journey_id}/test")
def test_run(engine: EngineDep, journey_id: str, body: SimulationRequest) -> dict[str, Any]:
    """Simulate one customer (`customerId` and/or `customerAttributes`) in virtual time, without side effects.
    `events` arrive at `at` or `afterMinutes`; a `response` event's `properties.outcome` sets `outcome`."""
    return simulator.simulate(engine, journey_id, None, body.customer_id, body.customer_attributes,
                              list(body.events))


@router.get("/customers/{customer_id}/journeys")
def customer_journeys(engine: EngineDep, customer_id: str) -> list[dict[str, Any]]:
    """Every enrollment of the customer, newest first, with the journey's name and status."""
    return enrollments.customer_journeys(engine, customer_id)
