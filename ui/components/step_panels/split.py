"""The split step in the editor: its paths, each with a percentage and a target, and their total."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from engine.references import References
from ui.components.step_panels_base import Edit, PanelContext, StepPanel, choice, other_steps, set_or_drop


def panel(step: dict[str, Any], edit: Edit, ctx: PanelContext) -> None:
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


def defaults(doc: dict[str, Any], refs: References) -> dict[str, Any]:
    return {"paths": [{"label": "A", "percent": 50}, {"label": "B", "percent": 50}]}


def summary(config: dict[str, Any], refs: References, decided_by: dict[str, str]) -> str:
    """e.g. "50% / 50%"."""
    return " / ".join(f"{path.get('percent', 0):g}%" for path in config.get("paths") or []) or "no paths yet"


PANEL = StepPanel("alt_route", "#ec4899", panel, defaults, summary)
