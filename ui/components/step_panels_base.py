"""What every configuration panel shares: the context, select options, and a CEL field with live feedback."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nicegui import ui

from engine.expressions import syntax_error
from engine.references import References
from ui.components.editor_state import EditorState

# An edit from a panel: edit(apply(step), undo key, rebuild=False).
Edit = Callable[..., None]


@dataclass
class PanelContext:
    """What a panel needs: the state, the reference catalog, and how to report an edit."""

    state: EditorState
    refs: References
    readonly: bool
    changed: Callable[[], None]  # an edit made in the panel (the panel keeps its inputs)
    rebuild: Callable[[], None]  # an edit that adds or removes rows (the panel is redrawn)
    delete: Callable[[str], None]


def options(names: dict[str, str], current: str | None) -> dict[str, str]:
    options = {key: f"{name} ({key})" if name != key else key for key, name in names.items()}
    if current and current not in options:
        options[current] = f"{current} (missing)"
    return options


def target_options(ctx: PanelContext, step_id: str, current: str | None) -> dict[str, str]:
    names = {s["id"]: s.get("name") or s["id"] for s in ctx.state.doc["steps"] if s["id"] != step_id}
    return options(names, current)


def cel_field(
    label: str, value: str, on_change: Callable[[str], None], *, readonly: bool, marker: str
) -> ui.textarea:
    """A raw CEL field with live syntax feedback under it."""
    field = (
        ui.textarea(label, value=value)
        .props("outlined dense autogrow spellcheck=false")
        .classes("w-full font-mono")
        .mark(marker)
    )
    feedback = ui.label().classes("text-xs").mark(f"{marker}-feedback")

    def show(text: str) -> None:
        problem = syntax_error(text) if text.strip() else None
        feedback.text = f"✗ {problem}" if problem else ("✓ valid CEL" if text.strip() else "")
        feedback.classes(replace="text-xs " + ("text-negative" if problem else "text-positive"))

    def changed(event: Any) -> None:
        show(event.value or "")
        on_change(event.value or "")

    show(value)
    field.on_value_change(changed)
    if readonly:
        field.disable()
    return field


def set_or_drop(holder: dict[str, Any], key: str, value: Any) -> None:
    if value in (None, ""):
        holder.pop(key, None)
    else:
        holder[key] = value
