"""The editor's Test-run panel: simulate one customer through the unsaved document; show the path on the
canvas and the trace in words (names, condition values, chosen offers) with what each step type shows under
its line (a send: the message's preview)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from itertools import pairwise
from typing import Any

from nicegui import run, ui

from engine.audience import customers
from engine.engine import Engine
from engine.errors import JourneysError
from engine.journeys.graph import ENTRY_ID
from engine.journeys.steps.base import quoted
from engine.runtime.simulator import simulate
from ui.components.flow_canvas import FlowCanvas
from ui.components.step_panels import PANELS
from ui.components.step_words import describe, lines

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


def ending(outcome: dict[str, Any]) -> str:
    """How the run ended, in words: reached an Exit step, completed (ran past the last step), ..."""
    trace = outcome.get("trace") or []
    last = trace[-1] if trace else {}
    name = quoted(last.get("name") or last.get("stepId") or "")
    ended = outcome.get("endedAs")
    if ended == "exited" and last.get("type") == "exit" and last.get("outcome") == "exited":
        return f"Reached Exit {name}"
    if ended == "exited":
        reason = outcome.get("exitReason") or "exited"
        if reason == "max_duration":
            return "Exited: the journey's maximum duration passed"
        return f"Exited: {reason}"
    if ended == "completed":
        return f"Completed: the path ends after {name}"
    if ended == "failed":
        return f"Failed at {name}: {outcome.get('error') or 'see the trace'}"
    return f"Still waiting at {name}"


def simulation_panel(engine: Engine, document: Callable[[], dict[str, Any]], canvas: FlowCanvas) -> None:
    ui.label("Test run").classes("text-lg font-semibold")
    ui.label(
        "Runs one customer through the journey as it is now (unsaved changes included), in virtual time, "
        "without sending anything."
    ).classes("text-xs text-grey-7")
    known = [row["id"] for row in customers.list_customers(engine, limit=100)["data"]]
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

    async def run_test() -> None:
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
            outcome = await run.io_bound(
                simulate, engine, document=document(), customer_id=customer.value or None,
                customer_attributes=extra or None, events=events if response.value else None,
            )
        except JourneysError as error:
            fail(error.message)
            return
        if outcome is None:  # the app is shutting down
            return
        show(outcome)

    def show(outcome: dict[str, Any]) -> None:
        trace = outcome.get("trace") or []
        steps, edges = path_of(trace)
        canvas.highlight(steps, edges)
        start = trace[0].get("at", "") if trace else ""
        with result:
            ui.label(ending(outcome)).classes("font-semibold").mark("test-ended")
            ui.label("Entry").classes("text-sm font-medium pl-16")
            for item in trace:
                with ui.row().classes("w-full gap-2 items-baseline no-wrap").mark("test-step"):
                    ui.label(elapsed(start, item.get("at", ""))).classes("text-xs font-mono text-grey-7 w-14")
                    ui.label(describe(item, canvas.refs)).classes("text-sm").mark("test-step-text")
                for line in lines(item):
                    ui.label(line).classes("text-xs text-grey-8 font-mono pl-16").mark("test-condition")
                panel = PANELS.get(item.get("type", ""))
                if panel and panel.result and item.get("outcome") != "failed":
                    panel.result(item.get("detail") or {})

    ui.button("Run", icon="play_arrow", on_click=run_test).props("unelevated no-caps").mark("test-run")
