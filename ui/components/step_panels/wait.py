"""The wait step in the editor: duration, unit and the event that may end it early."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from engine.journeys.steps.wait import UNITS, duration_words
from engine.references import References
from ui.components.step_panels_base import Edit, PanelContext, StepPanel, config_input, set_or_drop


def panel(step: dict[str, Any], edit: Edit, ctx: PanelContext) -> None:
    config = step.get("config") or {}
    with ui.row().classes("w-full gap-2 no-wrap"):
        duration = (
            ui.number("Wait for", value=config.get("duration"), min=1, step=1, precision=0)
            .props("outlined dense")
            .classes("grow")
            .mark("wait-duration")
        )
        unit = (
            ui.select(list(UNITS), value=config.get("unit", "days"), label="Unit")
            .props("outlined dense")
            .classes("w-32")
            .mark("wait-unit")
        )
    duration.on_value_change(
        lambda e: edit(
            lambda s: set_or_drop(s["config"], "duration", int(e.value) if e.value else None), "duration"
        )
    )
    unit.on_value_change(lambda e: edit(lambda s: s["config"].__setitem__("unit", e.value), None))
    config_input(step, edit, "untilEvent", "…or until this event arrives (optional)", "wait-until")


def defaults(doc: dict[str, Any], refs: References) -> dict[str, Any]:
    return {"duration": 1, "unit": "days"}


def summary(config: dict[str, Any], refs: References, decided_by: dict[str, str]) -> str:
    """e.g. "3 days or until purchase"."""
    text = duration_words(config.get("duration"), config.get("unit") or "days") or "set a duration"
    return f"{text} or until {config['untilEvent']}" if config.get("untilEvent") else text


PANEL = StepPanel("schedule", "#6366f1", panel, defaults, summary)
