"""The editor's Test-run panel: simulate one customer through the unsaved document; show path and trace."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from itertools import pairwise
from typing import Any

from nicegui import ui

from engine.audience import customers
from engine.errors import JourneysError
from engine.journeys.graph import ENTRY_ID
from engine.runtime.simulator import simulate
from ui.components.flow_canvas import FlowCanvas

EXAMPLE = '{"country": "DE", "age": 24}'
RESPONSES = {"": "No response", "click": "Clicks", "conversion": "Converts", "dismiss": "Dismisses"}


def path_of(trace: list[dict[str, Any]]) -> tuple[list[str], list[tuple[str, str]]]:
    """The steps a trace visited, in order, and the edges between consecutive ones (from the Entry)."""
    steps = [item["stepId"] for item in trace if item.get("stepId")]
    visited = [ENTRY_ID, *steps]
    edges = [(a, b) for a, b in pairwise(visited) if a != b]
    return steps, edges


def elapsed(start: str, moment: str) -> str:
    """Virtual time since the start, e.g. "+2d 0h" ("" when a timestamp is missing)."""
    try:
        delta = datetime.fromisoformat(moment.replace("Z", "")) - datetime.fromisoformat(
            start.replace("Z", "")
        )
    except (ValueError, AttributeError):
        return ""
    hours = int(delta.total_seconds() // 3600)
    minutes = int(delta.total_seconds() % 3600 // 60)
    return f"+{hours // 24}d {hours % 24}h" if hours >= 24 else f"+{hours}h {minutes}m"


def simulation_panel(document: Callable[[], dict[str, Any]], canvas: FlowCanvas) -> None:
    ui.label("Test run").classes("text-lg font-semibold")
    ui.label(
        "Runs one customer through the journey as it is now (unsaved changes included), in virtual time, "
        "without sending anything."
    ).classes("text-xs text-grey-7")
    known = [row["id"] for row in customers.list_customers(limit=100)["data"]]
    customer = ui.input("Existing customer id (optional)", autocomplete=known).props("outlined dense")
    customer.classes("w-full")
    customer.mark("test-customer")
    attributes = ui.textarea("…or these attributes (JSON)", value=EXAMPLE).props("outlined dense autogrow")
    attributes.classes("w-full font-mono").mark("test-attributes")
    response = ui.select(RESPONSES, value="", label="To what it is sent, the customer…").props(
        "outlined dense"
    )
    response.classes("w-full").mark("test-response")
    result = ui.column().classes("w-full gap-1").mark("test-result")

    def fail(message: str) -> None:
        canvas.highlight([], [])
        with result:
            ui.label(message).classes("text-negative text-sm").mark("test-error")

    def run() -> None:
        result.clear()
        try:
            extra = json.loads(attributes.value or "{}")
            if not isinstance(extra, dict):
                raise ValueError("expected a JSON object")
        except ValueError as error:
            fail(f"Attributes: {error}")
            return
        events = [{"type": "response", "afterMinutes": 60, "properties": {"outcome": response.value}}]
        try:
            outcome = simulate(
                document=document(),
                customer_id=customer.value or None,
                customer_attributes=extra or None,
                events=events if response.value else None,
            )
        except JourneysError as error:
            fail(error.message)
            return
        trace = outcome.get("trace") or []
        steps, edges = path_of(trace)
        canvas.highlight(steps, edges)
        start = trace[0].get("at", "") if trace else ""
        with result:
            ui.label(f"Ended as: {outcome.get('endedAs')}").classes("font-semibold").mark("test-ended")
            for item in trace:
                with ui.row().classes("w-full gap-2 items-baseline no-wrap"):
                    ui.label(elapsed(start, item.get("at", ""))).classes("text-xs font-mono text-grey-7 w-14")
                    ui.label(item.get("stepId") or "").classes("text-sm font-medium")
                    ui.label(str(item.get("outcome") or "")).classes("text-xs")
                detail = item.get("detail")
                if detail:
                    ui.label(json.dumps(detail, default=str)[:300]).classes(
                        "text-xs text-grey-7 font-mono pl-16"
                    )

    ui.button("Run", icon="play_arrow", on_click=run).props("unelevated no-caps").mark("test-run")
