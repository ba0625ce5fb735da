"""Panels whose config is a list of rows: branch conditions (with the builder), update operations, splits."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from ui.components.condition_builder import EVENT_TYPE, OUTCOME, ConditionBuilder
from ui.components.step_panels_base import (
    Edit,
    PanelContext,
    choice,
    config_select,
    other_steps,
    set_or_drop,
)

OPERATIONS = {
    "set": "Set attribute",
    "increment": "Increment attribute",
    "unset": "Remove attribute",
    "addSegment": "Add to segment",
    "removeSegment": "Remove from segment",
    "setFlag": "Set flag",
}


def branch_panel(step: dict[str, Any], edit: Edit, ctx: PanelContext) -> None:
    config = step.get("config") or {}
    conditions = config.get("conditions") or []
    ui.label("The first condition that holds wins.").classes("text-xs text-grey-7")
    for index, condition in enumerate(conditions):
        with ui.card().classes("w-full p-2 gap-1").props("flat bordered").mark(f"condition-{index}"):
            _condition_editor(step["id"], index, condition, edit, ctx)

    def add(s: dict[str, Any]) -> None:
        s["config"].setdefault("conditions", []).append(
            {"label": f"condition {len(s['config'].get('conditions', [])) + 1}", "expression": ""}
        )

    if not ctx.readonly:
        ui.button("Add condition", icon="add", on_click=lambda: edit(add, None, rebuild=True)).props(
            "flat dense no-caps"
        ).mark("add-condition")
    config_select(step, edit, "defaultStepId", other_steps(ctx, step["id"]), "Otherwise go to (default)",
                  "branch-default")


def _condition_editor(
    step_id: str, index: int, condition: dict[str, Any], edit: Edit, ctx: PanelContext
) -> None:
    def set_field(key: str, value: Any) -> None:
        edit(lambda s: set_or_drop(s["config"]["conditions"][index], key, value), f"cond:{index}:{key}")

    with ui.row().classes("w-full items-center gap-1 no-wrap"):
        label = (
            ui.input("Label", value=condition.get("label", ""))
            .props("outlined dense")
            .classes("grow")
            .mark(f"condition-{index}-label")
        )
        label.on_value_change(lambda e: set_field("label", e.value or ""))
        if not ctx.readonly:

            def remove(s: dict[str, Any]) -> None:
                s["config"]["conditions"].pop(index)

            ui.button(icon="close", on_click=lambda: edit(remove, None, rebuild=True)).props(
                "flat round dense"
            ).tooltip("Remove condition")
    choice(other_steps(ctx, step_id), condition.get("targetStepId"), "Go to", f"condition-{index}-target",
           lambda value: set_field("targetStepId", value))
    ConditionBuilder(
        condition.get("expression", ""),
        [*ctx.attributes, OUTCOME, EVENT_TYPE],
        lambda text: set_field("expression", text),
        readonly=ctx.readonly,
        marker=f"condition-{index}",
    )


def update_panel(step: dict[str, Any], edit: Edit, ctx: PanelContext) -> None:
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


def split_panel(step: dict[str, Any], edit: Edit, ctx: PanelContext) -> None:
    paths = (step.get("config") or {}).get("paths") or []
    total_label = ui.label().mark("split-total")

    def show_total() -> None:
        current = ctx.state.step(step["id"]) or step
        total = sum(float(path.get("percent") or 0) for path in current["config"].get("paths") or [])
        total_label.text = f"Total {total:g}% (must be 100%)"
        total_label.classes(
            replace="text-sm " + ("text-positive" if abs(total - 100) < 1e-9 else "text-negative")
        )

    show_total()
    for index, path in enumerate(paths):

        def set_field(key: str, value: Any, index: int = index, rebuild: bool = False) -> None:
            edit(
                lambda s: set_or_drop(s["config"]["paths"][index], key, value),
                f"path:{index}:{key}",
                rebuild,
            )

        def remove(s: dict[str, Any], index: int = index) -> None:
            s["config"]["paths"].pop(index)

        with ui.card().classes("w-full p-2 gap-1").props("flat bordered").mark(f"path-{index}"):
            with ui.row().classes("w-full no-wrap gap-1 items-center"):
                ui.input(
                    "Label", value=path.get("label", ""), on_change=lambda e, f=set_field: f("label", e.value)
                ).props("outlined dense").classes("grow")
                ui.number(
                    "%",
                    value=path.get("percent", 0),
                    min=0,
                    max=100,
                    on_change=lambda e, f=set_field: (f("percent", float(e.value or 0)), show_total()),
                ).props("outlined dense").classes("w-20").mark(f"path-{index}-percent")
                if not ctx.readonly:
                    ui.button(icon="close", on_click=lambda r=remove: edit(r, None, rebuild=True)).props(
                        "flat round dense"
                    )
            choice(other_steps(ctx, step["id"]), path.get("targetStepId"), "Go to", f"path-{index}-target",
                   lambda value, f=set_field: f("targetStepId", value))

    def add(s: dict[str, Any]) -> None:
        s["config"].setdefault("paths", []).append(
            {"label": chr(65 + len(s["config"]["paths"])), "percent": 0}
        )

    if not ctx.readonly:
        ui.button("Add path", icon="add", on_click=lambda: edit(add, None, rebuild=True)).props(
            "flat dense no-caps"
        )
