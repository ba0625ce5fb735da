"""The journey settings panel: name, description, maximum duration, entry conditions, re-entry and goal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui

from ui.components.step_panels_base import PanelContext, cel_field, choice
from ui.layout import may

DEFAULT_GOAL_DAYS = 7

REENTRY = {
    "skip_if_active": "Skip while enrolled",
    "never": "Never again",
    "allow_multiple": "Allow multiple",
    "restart": "Restart",
}


def settings_panel(ctx: PanelContext, *, structure_locked: bool) -> None:
    """Name, description, max duration, entry conditions and re-entry. Only name/description while locked."""
    state = ctx.state
    doc = state.doc
    entry = doc.get("entryConditions") or {}
    archived = state.status == "archived"

    def set_doc(field: str, value: Any) -> None:
        if state.edit_doc(field, value):
            ctx.changed()

    def set_entry(field: str, value: Any) -> None:
        if state.edit_entry(field, value):
            ctx.changed()

    ui.label("Journey settings").classes("text-lg font-semibold")
    name = (
        ui.input("Name", value=doc.get("name", ""), validation={"Required": lambda v: bool(v and v.strip())})
        .props("outlined dense")
        .classes("w-full")
        .mark("journey-name")
    )
    name.on_value_change(lambda e: set_doc("name", e.value or ""))
    description = (
        ui.textarea("Description", value=doc.get("description", ""))
        .props("outlined dense autogrow")
        .classes("w-full")
        .mark("journey-description")
    )
    description.on_value_change(lambda e: set_doc("description", e.value or ""))
    if archived:
        name.disable()
        description.disable()
    locked: list[Any] = []
    locked.append(
        ui.number(
            "Maximum duration (days)",
            value=doc.get("maxDuration", 30),
            min=1,
            max=365,
            precision=0,
            on_change=lambda e: set_doc("maxDuration", int(e.value) if e.value else 30),
        )
        .props("outlined dense")
        .classes("w-full")
        .mark("journey-max-duration")
    )
    ui.label("Entry").classes("text-sm font-semibold mt-2")
    locked.append(
        choice(ctx.refs.segments, entry.get("segmentId"), "When a customer joins segment", "entry-segment",
               lambda value: set_entry("segmentId", value))
    )
    locked.append(
        ui.input(
            "When this event arrives (event type)",
            value=entry.get("eventType") or "",
            on_change=lambda e: set_entry("eventType", e.value),
        )
        .props("outlined dense")
        .classes("w-full")
        .mark("entry-event")
    )
    locked.append(
        cel_field(
            "Only if (CEL over event and customer, optional)",
            entry.get("condition") or "",
            lambda text: set_entry("condition", text),
            readonly=False,
            marker="entry-condition",
            limits=ctx.limits,
        )
    )
    locked.append(
        ui.select(
            REENTRY,
            value=entry.get("reentry", "skip_if_active"),
            label="Re-entry",
            on_change=lambda e: set_entry("reentry", e.value),
        )
        .props("outlined dense")
        .classes("w-full")
        .mark("entry-reentry")
    )
    locked.append(
        ui.number(
            "Cool-down (hours)",
            value=entry.get("cooldownHours", 0),
            min=0,
            on_change=lambda e: set_entry("cooldownHours", float(e.value or 0)),
        )
        .props("outlined dense")
        .classes("w-full")
        .mark("entry-cooldown")
    )
    ui.label(
        "Customers can always be enrolled by hand (the Enroll button, a customer's page or the API) while "
        "the journey is active."
    ).classes("text-xs text-grey-7")
    if structure_locked:
        for element in locked:
            element.disable()
    goal_fields(doc.get("goal"), lambda goal: set_doc("goal", goal), editable=not archived and may("editor"))


def goal_fields(goal: dict[str, Any] | None, on_change: Callable[[dict[str, Any] | None], None], *,
                editable: bool) -> None:
    """The goal: an event type and a window in days. A blank event type means no goal. It only measures,
    so it stays editable while the journey runs."""
    days = {"value": (goal or {}).get("withinDays", DEFAULT_GOAL_DAYS)}

    def emit(event_type: str | None, within: Any) -> None:
        days["value"] = max(1, min(365, int(within or DEFAULT_GOAL_DAYS)))
        kind = (event_type or "").strip()
        on_change({"eventType": kind, "withinDays": days["value"]} if kind else None)

    ui.label("Goal").classes("text-sm font-semibold mt-2")
    event = (
        ui.input("Counts as converted: event type", value=(goal or {}).get("eventType", ""),
                 placeholder="e.g. purchase")
        .props("outlined dense clearable")
        .classes("w-full")
        .mark("goal-event")
    )
    within = (
        ui.number("… within days of entering", value=days["value"], min=1, max=365, precision=0)
        .props("outlined dense")
        .classes("w-full")
        .mark("goal-days")
    )
    event.on_value_change(lambda e: emit(e.value, within.value))
    within.on_value_change(lambda e: emit(event.value, e.value))
    ui.label(
        "The monitor shows how many customers converted, per split branch and per end step, and which "
        "branch wins. Leave the event type empty for no goal; it can change while the journey runs."
    ).classes("text-xs text-grey-7")
    if not editable:
        event.disable()
        within.disable()
