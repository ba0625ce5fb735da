"""The update step in the editor: its operations on attributes, static segments and flags."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from engine.journeys.steps.update import operation_words
from engine.references import References
from ui.components.step_panels_base import Edit, PanelContext, StepPanel, choice, set_or_drop

OPERATIONS = {
    "set": "Set attribute",
    "increment": "Increment attribute",
    "unset": "Remove attribute",
    "addSegment": "Add to segment",
    "removeSegment": "Remove from segment",
    "setFlag": "Set flag",
}


def panel(step: dict[str, Any], edit: Edit, ctx: PanelContext) -> None:
    operations = (step.get("config") or {}).get("operations") or []
    for index, operation in enumerate(operations):
        with ui.card().classes("w-full p-2 gap-1").props("flat bordered").mark(f"operation-{index}"):
            _operation_editor(index, operation, edit, ctx)

    def add(s: dict[str, Any]) -> None:
        s["config"].setdefault("operations", []).append({"op": "set", "attribute": "", "value": ""})

    if not ctx.readonly:
        ui.button("Add change", icon="add", on_click=lambda: edit(add, None, rebuild=True)).props(
            "flat dense no-caps"
        ).mark("add-operation")


def _operation_editor(index: int, operation: dict[str, Any], edit: Edit, ctx: PanelContext) -> None:
    def set_field(key: str, value: Any, rebuild: bool = False) -> None:
        edit(
            lambda s: set_or_drop(s["config"]["operations"][index], key, value), f"op:{index}:{key}", rebuild
        )

    def replace_op(value: str) -> None:
        edit(lambda s: s["config"]["operations"].__setitem__(index, {"op": value}), None, rebuild=True)

    def remove(s: dict[str, Any]) -> None:
        s["config"]["operations"].pop(index)

    kind = operation.get("op", "set")
    with ui.row().classes("w-full items-center no-wrap gap-1"):
        ui.select(OPERATIONS, value=kind, on_change=lambda e: replace_op(e.value)).props(
            "outlined dense"
        ).classes("grow").mark(f"operation-{index}-op")
        if not ctx.readonly:
            ui.button(icon="close", on_click=lambda: edit(remove, None, rebuild=True)).props(
                "flat round dense"
            )
    if kind in ("set", "increment", "unset"):
        ui.input(
            "Attribute",
            value=operation.get("attribute") or "",
            on_change=lambda e: set_field("attribute", e.value),
        ).props("outlined dense").classes("w-full").mark(f"operation-{index}-attribute")
    if kind in ("addSegment", "removeSegment"):
        choice(ctx.refs.segments, operation.get("segmentId"), "Segment", f"operation-{index}-segment",
               lambda value: set_field("segmentId", value), clearable=False)
    if kind == "setFlag":
        ui.input(
            "Flag", value=operation.get("flag") or "", on_change=lambda e: set_field("flag", e.value)
        ).props("outlined dense").classes("w-full").mark(f"operation-{index}-flag")
        ui.switch(
            "On", value=bool(operation.get("value", True)), on_change=lambda e: set_field("value", e.value)
        )
    if kind in ("set", "increment"):
        value = operation.get("value")
        ui.input(
            "Value",
            value="" if value is None else str(value),
            on_change=lambda e: set_field("value", _typed(e.value or "", kind)),
        ).props("outlined dense").classes("w-full").mark(f"operation-{index}-value")


def _typed(text: str, kind: str) -> Any:
    """What a typed value means: numbers and true/false as such (increment needs a number)."""
    try:
        number = float(text)
    except ValueError:
        return {"true": True, "false": False}.get(text, 1 if kind == "increment" else text)
    return int(number) if number.is_integer() else number


def defaults(doc: dict[str, Any], refs: References) -> dict[str, Any]:
    return {"operations": []}


def summary(config: dict[str, Any], refs: References, decided_by: dict[str, str]) -> str:
    """e.g. "add to Under 30 +2 more"."""
    operations = config.get("operations") or []
    if not operations:
        return "no changes yet"
    text = operation_words(operations[0], refs)
    return f"{text} +{len(operations) - 1} more" if len(operations) > 1 else text


PANEL = StepPanel("edit", "#3b82f6", panel, defaults, summary)
