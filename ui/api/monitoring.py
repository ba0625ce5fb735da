"""Monitoring routes: a journey's metrics and goal results, and the engine's status (the figures the monitor
pages show)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from engine.monitoring import engine_status, goals, metrics
from ui.dependencies import EngineDep

router = APIRouter(tags=["monitoring"])


@router.get("/journeys/{journey_id}/metrics")
def journey_metrics(
    engine: EngineDep,
    journey_id: str,
    hours: int = Query(24, ge=1, le=metrics.MAX_WINDOW_HOURS, description="time-series window in hours"),
) -> dict[str, Any]:
    """Counts per step and edge, totals, deliveries, response rates and entries/completions over time."""
    return metrics.journey_metrics(engine, journey_id, hours)


@router.get("/journeys/{journey_id}/goal")
def journey_goal(engine: EngineDep, journey_id: str) -> dict[str, Any]:
    """The journey's goal and who converted: overall, per way of ending (`paths`) and per split branch
    (`splits`: each branch's rate, its difference from the first branch with a 95% confidence interval, and
    a verdict). `goal` is null (and there are no figures) while the journey has none."""
    return goals.journey_goal(engine, journey_id)


@router.get("/engine/status")
def status(engine: EngineDep) -> dict[str, Any]:
    """Throughput, due backlog and wake-up lag, dispatcher queue, errors, per-journey activity, recent."""
    return engine_status.engine_status(engine)
