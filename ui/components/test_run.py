"""The editor's Test-run panel: simulate one customer through the unsaved document; show path and trace."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from itertools import pairwise
from typing import Any

from nicegui import ui

from engine.errors import JourneysError
from ui.components.flow_canvas import FlowCanvas

EXAMPLE = '{"country": "DE", "age": 34}'


def path_of(trace: list[dict[str, Any]]) -> tuple[list[str], list[tuple[str, str]]]:
    """The steps a trace visited, in order, and the edges between consecutive ones (from the Entry)."""
    steps = [item["stepId"] for item in trace if item.get("stepId")]
    visited = ["__entry__", *steps]
    edges = [(a, b) for a, b in pairwise(visited) if a != b]
    return steps, edges


def test_run_panel(document: Callable[[], dict[str, Any]], canvas: FlowCanvas) -> None:
    ui.label("Test run").classes("text-lg font-semibold")
    ui.label(
        "Runs one customer through the journey as it is now (unsaved changes included), in virtual time, "
        "without sending anything."
    ).classes("text-xs text-grey-7")
    customer = (
        ui.input("Existing customer id (optional)")
        .props("outlined dense")
        .classes("w-full")
        .mark("test-customer")
    )
    attributes = (
        ui.textarea("…or these attributes (JSON)", value=EXAMPLE)
        .props("outlined dense autogrow")
        .classes("w-full font-mono")
        .mark("test-attributes")
    )
    result = ui.column().classes("w-full gap-1").mark("test-result")

    def run() -> None:
        result.clear()
        try:
            extra = json.loads(attributes.value or "{}")
            if not isinstance(extra, dict):
                raise ValueError("attributes must be a JSON object")
        except ValueError as error:
            with result:
                ui.label(f"Attributes: {error}").classes("text-negative text-sm")
            return
        try:
            simulator = importlib.import_module("engine.simulator")
            outcome = simulator.simulate(
                document=document(), customer_id=customer.value or None, customer_attributes=extra or None
            )
        except ModuleNotFoundError:
            outcome = None
            message = "The simulator is not available in this build."
        except JourneysError as error:
            outcome = None
            message = error.message
        if outcome is None:
            with result:
                ui.label(message).classes("text-negative text-sm")
            return
        trace = outcome.get("trace") or []
        steps, edges = path_of(trace)
        canvas.highlight(steps, edges)
        with result:
            ui.label(f"Ended as: {outcome.get('endedAs')}").classes("font-semibold").mark("test-ended")
            for item in trace:
                with ui.row().classes("w-full gap-2 items-baseline no-wrap"):
                    ui.label(str(item.get("at", ""))[11:19]).classes("text-xs font-mono text-grey-7")
                    ui.label(item.get("stepId") or "").classes("text-sm font-medium")
                    ui.label(str(item.get("outcome") or item.get("detail") or "")).classes("text-xs")

    ui.button("Run", icon="play_arrow", on_click=run).props("unelevated no-caps").mark("test-run")
