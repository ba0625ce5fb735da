"""Monitoring routes: a journey's metrics and the engine's status (the figures the monitor pages show)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from engine.monitoring import engine_status, metrics

router = APIRouter(tags=["monitoring"])


@router.get("/journeys/{journey_id}/metrics")
def journey_metrics(
    journey_id: str,
    hours: int = Query(24, ge=1, le=metrics.MAX_WINDOW_HOURS, description="time-series window in hours"),
) -> dict[str, Any]:
    """Counts per step and edge, totals, deliveries, response rates and entries/completions over time."""
    return metrics.journey_metrics(journey_id, hours)


@router.get("/engine/status")
def status() -> dict[str, Any]:
    """Throughput, due backlog and wake-up lag, dispatcher queue, errors, per-journey activity, recent."""
    return engine_status.engine_status()
