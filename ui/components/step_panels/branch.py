"""The branch step in the editor: its conditions (each with the condition builder and a target) and the
default step."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from engine.journeys.steps.base import plural
from engine.references import References
from ui.components.condition_builder import EVENT_TYPE, OUTCOME, ConditionBuilder
from ui.components.step_panels_base import (
    Edit,
    PanelContext,
    StepPanel,
    choice,
    config_select,
    other_steps,
    set_or_drop,
)


def panel(step: dict[str, Any], edit: Edit, ctx: PanelContext) -> None:
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
        limits=ctx.limits,
    )


def defaults(doc: dict[str, Any], refs: References) -> dict[str, Any]:
    return {"conditions": [{"label": "clicked", "expression": "outcome == 'click'"}]}


def summary(config: dict[str, Any], refs: References, decided_by: dict[str, str]) -> str:
    """e.g. "2 conditions + default"."""
    text = plural(len(config.get("conditions") or []), "condition")
    return f"{text} + default" if config.get("defaultStepId") else text


PANEL = StepPanel("call_split", "#f59e0b", panel, defaults, summary)
