"""The step panel (name, the type's configuration, where it goes next) and the editor's step-type registry:
one module per type in this package (`<type>.py`, holding a `PANEL`), found by the types the journey schema
knows, in palette order."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

from nicegui import ui
from nicegui.elements.mixins.disableable_element import DisableableElement

from engine.journeys.steps import KINDS
from models.journey import STEP_TYPES
from ui.components.step_panels_base import PanelContext, StepPanel, choice, other_steps, set_or_drop

PANELS: dict[str, StepPanel] = {kind: import_module(f"{__name__}.{kind}").PANEL for kind in STEP_TYPES}
# One icon and colour per step type, used alike on palette, canvas, monitor and charts.
STEP_STYLE: dict[str, tuple[str, str]] = {kind: (panel.icon, panel.color) for kind, panel in PANELS.items()}
UNKNOWN_STYLE = ("help", "#64748b")


def step_panel(step_id: str, ctx: PanelContext) -> None:
    step = ctx.state.step(step_id)
    if step is None:
        return
    kind = step.get("type", "")
    known, looks = KINDS.get(kind), PANELS.get(kind)
    icon, color = STEP_STYLE.get(kind, UNKNOWN_STYLE)

    def edit(apply: Callable[[dict[str, Any]], None], key: str | None, rebuild: bool = False) -> None:
        if ctx.state.edit_step(step_id, apply, key):
            (ctx.rebuild if rebuild else ctx.changed)()

    with ui.column().classes("w-full gap-2") as panel:
        with ui.row().classes("items-center gap-2 w-full"):
            ui.icon(icon).classes("text-white rounded p-1").style(f"background:{color}")
            ui.label(known.name if known else kind).classes("text-lg font-semibold")
            ui.label(step_id).classes("text-xs text-grey-7 font-mono grow")
            if not ctx.readonly:
                ui.button(icon="delete", on_click=lambda: ctx.delete(step_id)).props(
                    "flat round dense color=negative"
                ).tooltip("Delete step (Del)").mark("delete-step")
        name = (
            ui.input("Name", value=step.get("name", ""))
            .props("outlined dense")
            .classes("w-full")
            .mark("step-name")
        )
        name.on_value_change(
            lambda e: edit(lambda s: s.__setitem__("name", e.value or ""), f"{step_id}:name")
        )
        if looks is not None:
            looks.build(step, edit, ctx)
        if known is None or known.follows_next:
            choice(other_steps(ctx, step_id), step.get("next"), "Then go to", "next",
                   lambda value: edit(lambda s: set_or_drop(s, "next", value), None))
            ui.label("Empty: the journey completes here.").classes("text-xs text-grey-7")
    if ctx.readonly:  # the structure is locked: show the configuration, allow no edits
        for element in panel.descendants():
            if isinstance(element, DisableableElement) and not isinstance(element, ui.button):
                element.disable()
