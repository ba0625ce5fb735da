"""What every configuration panel shares: the context, what a step type's panel module declares
(`StepPanel`), select options, and a CEL field with live feedback."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nicegui import ui

from engine.audience.attributes import Attribute
from engine.expressions import Limits, syntax_error
from engine.references import References

if TYPE_CHECKING:  # the editor state builds new steps from the panels' defaults
    from ui.components.editor_state import EditorState

# An edit from a panel: edit(apply(step), undo key, rebuild=False).
Edit = Callable[..., None]


@dataclass
class PanelContext:
    """What a panel needs: the state, the reference catalog, the customer attributes conditions can test, the
    engine's limits CEL is checked against, and how to report an edit."""

    state: EditorState
    refs: References
    readonly: bool
    changed: Callable[[], None]  # an edit made in the panel (the panel keeps its inputs)
    rebuild: Callable[[], None]  # an edit that adds or removes rows (the panel is redrawn)
    delete: Callable[[str], None]
    limits: Limits
    attributes: list[Attribute] = field(default_factory=list)


@dataclass(frozen=True)
class StepPanel:
    """The editor side of one step type: its look (palette, canvas, monitor), its configuration panel, the
    config a new step starts with, and the one-line summary on its node."""

    icon: str
    color: str
    build: Callable[[dict[str, Any], Edit, PanelContext], None]
    # defaults(document, refs): a new step's config (e.g. the first channel in the catalogue).
    defaults: Callable[[dict[str, Any], References], dict[str, Any]]
    # summary(config, refs, decided_by): decided_by maps a storeResultAs name to its decide step's name.
    summary: Callable[[dict[str, Any], References, dict[str, str]], str]
    # What a test run shows under this step's sentence, from its detail in wire form (send: the preview).
    result: Callable[[dict[str, Any]], None] | None = None


def options(names: dict[str, str], current: str | None) -> dict[str, str]:
    options = {key: f"{name} ({key})" if name != key else key for key, name in names.items()}
    if current and current not in options:
        options[current] = f"{current} (missing)"
    return options


def other_steps(ctx: PanelContext, step_id: str) -> dict[str, str]:
    """Every other step, id → name: where a step can go next."""
    return {s["id"]: s.get("name") or s["id"] for s in ctx.state.doc["steps"] if s["id"] != step_id}


def choice(names: dict[str, str], current: str | None, label: str, marker: str,
           on_change: Callable[[Any], None], *, clearable: bool = True) -> ui.select:
    """A select of `names` (id → name; a current id no longer there is shown as missing)."""
    return (
        ui.select(options(names, current), value=current, label=label, clearable=clearable,
                  on_change=lambda e: on_change(e.value))
        .props("outlined dense")
        .classes("w-full")
        .mark(marker)
    )


def cel_field(
    label: str, value: str, on_change: Callable[[str], None], *, readonly: bool, marker: str, limits: Limits
) -> ui.textarea:
    """A raw CEL field with live feedback under it: its syntax, and its cost against `limits`."""
    field = (
        ui.textarea(label, value=value)
        .props("outlined dense autogrow spellcheck=false")
        .classes("w-full font-mono")
        .mark(marker)
    )
    feedback = ui.label().classes("text-xs").mark(f"{marker}-feedback")

    def show(text: str) -> None:
        problem = syntax_error(text, limits) if text.strip() else None
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


def config_select(step: dict[str, Any], edit: Edit, key: str, names: dict[str, str], label: str,
                  marker: str) -> ui.select:
    """A clearable select of `names` (id → name) writing the step's `config[key]` (cleared: removed)."""
    return choice(names, (step.get("config") or {}).get(key), label, marker,
                  lambda value: edit(lambda s: set_or_drop(s["config"], key, value), None))


def config_input(step: dict[str, Any], edit: Edit, key: str, label: str, marker: str,
                 *, required: bool = False) -> ui.input:
    """A text input writing the step's `config[key]`; emptied, the key is removed (kept as "" if `required`).

    Keystrokes in one field coalesce into one undo step."""
    field = (
        ui.input(label, value=(step.get("config") or {}).get(key) or "")
        .props("outlined dense")
        .classes("w-full")
        .mark(marker)
    )

    def write(s: dict[str, Any], value: str) -> None:
        if required:
            s["config"][key] = value
        else:
            set_or_drop(s["config"], key, value)

    field.on_value_change(lambda e: edit(lambda s: write(s, e.value or ""), f"{step['id']}:{key}"))
    return field
