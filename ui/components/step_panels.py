"""Configuration panels: one per step type, plus the journey settings. They edit the EditorState."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nicegui import ui
from nicegui.elements.mixins.disableable_element import DisableableElement

from engine.expressions import syntax_error
from engine.references import References
from ui.components.conditions import ATTRIBUTE_HINTS, OPERATORS, Row, from_cel, to_cel
from ui.components.editor_state import TYPE_NAMES, EditorState
from ui.layout import STEP_STYLE

UNITS = {"minutes": "minutes", "hours": "hours", "days": "days"}
REENTRY = {
    "skip_if_active": "Skip while enrolled",
    "never": "Never again",
    "allow_multiple": "Allow multiple",
    "restart": "Restart",
}
OPERATIONS = {
    "set": "Set attribute",
    "increment": "Increment attribute",
    "unset": "Remove attribute",
    "addSegment": "Add to segment",
    "removeSegment": "Remove from segment",
    "setFlag": "Set flag",
}


@dataclass
class PanelContext:
    """What a panel needs: the state, the reference catalog, and how to report an edit."""

    state: EditorState
    refs: References
    readonly: bool
    changed: Callable[[], None]  # an edit made in the panel (the panel keeps its inputs)
    rebuild: Callable[[], None]  # an edit that adds or removes rows (the panel is redrawn)
    delete: Callable[[str], None]


def _options(names: dict[str, str], current: str | None) -> dict[str, str]:
    options = {key: f"{name} ({key})" if name != key else key for key, name in names.items()}
    if current and current not in options:
        options[current] = f"{current} (missing)"
    return options


def _target_options(ctx: PanelContext, step_id: str, current: str | None) -> dict[str, str]:
    names = {s["id"]: s.get("name") or s["id"] for s in ctx.state.doc["steps"] if s["id"] != step_id}
    return _options(names, current)


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


# ---- the step panel -------------------------------------------------------------------------------------


def step_panel(step_id: str, ctx: PanelContext) -> None:
    step = ctx.state.step(step_id)
    if step is None:
        return
    kind = step.get("type", "")
    icon, color = STEP_STYLE.get(kind, ("help", "#64748b"))

    def edit(apply: Callable[[dict[str, Any]], None], key: str | None, rebuild: bool = False) -> None:
        if ctx.state.edit_step(step_id, apply, key):
            (ctx.rebuild if rebuild else ctx.changed)()

    with ui.column().classes("w-full gap-2") as panel:
        with ui.row().classes("items-center gap-2 w-full"):
            ui.icon(icon).classes("text-white rounded p-1").style(f"background:{color}")
            ui.label(TYPE_NAMES.get(kind, kind)).classes("text-lg font-semibold")
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
        builder = PANELS.get(kind)
        if builder is not None:
            builder(step, edit, ctx)
        if kind not in ("branch", "split", "exit"):
            target = (
                ui.select(
                    _target_options(ctx, step_id, step.get("next")),
                    value=step.get("next"),
                    label="Then go to",
                    clearable=True,
                )
                .props("outlined dense")
                .classes("w-full")
                .mark("next")
            )
            target.on_value_change(lambda e: edit(lambda s: _set_or_drop(s, "next", e.value), None))
            ui.label("Empty: the journey completes here.").classes("text-xs text-grey-7")
    if ctx.readonly:  # the structure is locked: show the configuration, allow no edits
        for element in panel.descendants():
            if isinstance(element, DisableableElement) and not isinstance(element, ui.button):
                element.disable()


def _set_or_drop(holder: dict[str, Any], key: str, value: Any) -> None:
    if value in (None, ""):
        holder.pop(key, None)
    else:
        holder[key] = value


Edit = Callable[..., None]


def _wait(step: dict[str, Any], edit: Edit, ctx: PanelContext) -> None:
    config = step.get("config") or {}
    with ui.row().classes("w-full gap-2 no-wrap"):
        duration = (
            ui.number("Wait for", value=config.get("duration"), min=1, step=1, precision=0)
            .props("outlined dense")
            .classes("grow")
            .mark("wait-duration")
        )
        unit = (
            ui.select(UNITS, value=config.get("unit", "days"), label="Unit")
            .props("outlined dense")
            .classes("w-32")
            .mark("wait-unit")
        )
    duration.on_value_change(
        lambda e: edit(
            lambda s: _set_or_drop(s["config"], "duration", int(e.value) if e.value else None), "duration"
        )
    )
    unit.on_value_change(lambda e: edit(lambda s: s["config"].__setitem__("unit", e.value), None))
    until = (
        ui.input("…or until this event arrives (optional)", value=config.get("untilEvent") or "")
        .props("outlined dense")
        .classes("w-full")
        .mark("wait-until")
    )
    until.on_value_change(lambda e: edit(lambda s: _set_or_drop(s["config"], "untilEvent", e.value), "until"))


def _decide(step: dict[str, Any], edit: Edit, ctx: PanelContext) -> None:
    config = step.get("config") or {}
    flow = (
        ui.select(
            _options(ctx.refs.decision_flows, config.get("decisionFlowId")),
            value=config.get("decisionFlowId"),
            label="Decision flow",
            clearable=True,
        )
        .props("outlined dense")
        .classes("w-full")
        .mark("decide-flow")
    )
    flow.on_value_change(lambda e: edit(lambda s: _set_or_drop(s["config"], "decisionFlowId", e.value), None))
    count = (
        ui.number("Offers to keep", value=config.get("maxOffers", 1), min=1, max=10, step=1, precision=0)
        .props("outlined dense")
        .classes("w-full")
        .mark("decide-max")
    )
    count.on_value_change(
        lambda e: edit(
            lambda s: s["config"].__setitem__("maxOffers", max(1, min(10, int(e.value or 1)))), "maxOffers"
        )
    )
    store = (
        ui.input("Store the offers as", value=config.get("storeResultAs") or "")
        .props("outlined dense")
        .classes("w-full")
        .mark("decide-store")
    )
    store.on_value_change(
        lambda e: edit(lambda s: _set_or_drop(s["config"], "storeResultAs", e.value), "store")
    )


def _branch(step: dict[str, Any], edit: Edit, ctx: PanelContext) -> None:
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
    default = (
        ui.select(
            _target_options(ctx, step["id"], config.get("defaultStepId")),
            value=config.get("defaultStepId"),
            label="Otherwise go to (default)",
            clearable=True,
        )
        .props("outlined dense")
        .classes("w-full")
        .mark("branch-default")
    )
    default.on_value_change(
        lambda e: edit(lambda s: _set_or_drop(s["config"], "defaultStepId", e.value), None)
    )


def _condition_editor(
    step_id: str, index: int, condition: dict[str, Any], edit: Edit, ctx: PanelContext
) -> None:
    def set_field(key: str, value: Any) -> None:
        edit(lambda s: _set_or_drop(s["config"]["conditions"][index], key, value), f"cond:{index}:{key}")

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
    target = (
        ui.select(
            _target_options(ctx, step_id, condition.get("targetStepId")),
            value=condition.get("targetStepId"),
            label="Go to",
            clearable=True,
        )
        .props("outlined dense")
        .classes("w-full")
        .mark(f"condition-{index}-target")
    )
    target.on_value_change(lambda e: set_field("targetStepId", e.value))
    expression = condition.get("expression", "")
    rows = from_cel(expression)
    raw: list[ui.textarea] = []
    if rows is not None:
        rows = rows or [Row()]
        for row_index, row in enumerate(rows):
            _builder_row(rows, row_index, row, lambda: raw[0].set_value(to_cel(rows)) if raw else None, index)
    else:
        ui.label("Hand-written CEL: edit it below.").classes("text-xs text-grey-7")
    raw.append(
        cel_field(
            "CEL",
            expression,
            lambda text: set_field("expression", text),
            readonly=ctx.readonly,
            marker=f"condition-{index}-cel",
        )
    )


def _builder_row(rows: list[Row], row_index: int, row: Row, write: Callable[[], None], index: int) -> None:
    marker = f"condition-{index}-row-{row_index}"
    with ui.row().classes("w-full gap-1 no-wrap items-center"):
        attribute = (
            ui.input("Attribute", value=row.attribute, autocomplete=ATTRIBUTE_HINTS)
            .props("outlined dense")
            .classes("w-40")
            .mark(f"{marker}-attribute")
        )
        operator = (
            ui.select(OPERATORS, value=row.operator)
            .props("outlined dense")
            .classes("w-24")
            .mark(f"{marker}-operator")
        )
        value = (
            ui.input("Value", value=row.value).props("outlined dense").classes("grow").mark(f"{marker}-value")
        )

    def update(field: str, new: Any) -> None:
        setattr(row, field, new or "")
        write()

    attribute.on_value_change(lambda e: update("attribute", e.value))
    operator.on_value_change(lambda e: update("operator", e.value))
    value.on_value_change(lambda e: update("value", e.value))


def _send(step: dict[str, Any], edit: Edit, ctx: PanelContext) -> None:
    config = step.get("config") or {}
    channels = {
        key: f"{name} · {ctx.refs.channel_types.get(key, '')}" for key, name in ctx.refs.channels.items()
    }
    channel = (
        ui.select(
            _options(channels, config.get("channelId")),
            value=config.get("channelId"),
            label="Channel",
            clearable=True,
        )
        .props("outlined dense")
        .classes("w-full")
        .mark("send-channel")
    )
    channel.on_value_change(lambda e: edit(lambda s: _set_or_drop(s["config"], "channelId", e.value), None))
    stored = {
        s["config"]["storeResultAs"]: f"{s['config']['storeResultAs']} (from {s.get('name') or s['id']})"
        for s in ctx.state.doc["steps"]
        if s.get("type") == "decide" and (s.get("config") or {}).get("storeResultAs")
    }
    source = (
        ui.select(
            _options(stored, config.get("offerFrom")),
            value=config.get("offerFrom"),
            label="Offer chosen by a decide step",
            clearable=True,
        )
        .props("outlined dense")
        .classes("w-full")
        .mark("send-offer-from")
    )
    source.on_value_change(lambda e: edit(lambda s: _set_or_drop(s["config"], "offerFrom", e.value), None))
    offer = (
        ui.select(
            _options(ctx.refs.offers, config.get("offerId")),
            value=config.get("offerId"),
            label="…or always this offer",
            clearable=True,
        )
        .props("outlined dense")
        .classes("w-full")
        .mark("send-offer")
    )
    offer.on_value_change(lambda e: edit(lambda s: _set_or_drop(s["config"], "offerId", e.value), None))
    template = config.get("template") or {}
    with ui.expansion("Message override (optional)", icon="edit_note").classes("w-full"):
        subject = (
            ui.input("Subject", value=template.get("subject") or "").props("outlined dense").classes("w-full")
        )
        body = (
            ui.textarea("Body (Jinja2)", value=template.get("body") or "")
            .props("outlined dense autogrow")
            .classes("w-full")
        )

    def set_template(key: str, value: str) -> None:
        def apply(s: dict[str, Any]) -> None:
            current = dict(s["config"].get("template") or {})
            _set_or_drop(current, key, value)
            _set_or_drop(s["config"], "template", current or None)

        edit(apply, f"template:{key}")

    subject.on_value_change(lambda e: set_template("subject", e.value or ""))
    body.on_value_change(lambda e: set_template("body", e.value or ""))


def _update(step: dict[str, Any], edit: Edit, ctx: PanelContext) -> None:
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
            lambda s: _set_or_drop(s["config"]["operations"][index], key, value), f"op:{index}:{key}", rebuild
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
        ui.select(
            _options(ctx.refs.segments, operation.get("segmentId")),
            value=operation.get("segmentId"),
            label="Segment",
            on_change=lambda e: set_field("segmentId", e.value),
        ).props("outlined dense").classes("w-full").mark(f"operation-{index}-segment")
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


def _split(step: dict[str, Any], edit: Edit, ctx: PanelContext) -> None:
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
                lambda s: _set_or_drop(s["config"]["paths"][index], key, value),
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
            ui.select(
                _target_options(ctx, step["id"], path.get("targetStepId")),
                value=path.get("targetStepId"),
                label="Go to",
                clearable=True,
                on_change=lambda e, f=set_field: f("targetStepId", e.value),
            ).props("outlined dense").classes("w-full")

    def add(s: dict[str, Any]) -> None:
        s["config"].setdefault("paths", []).append(
            {"label": chr(65 + len(s["config"]["paths"])), "percent": 0}
        )

    if not ctx.readonly:
        ui.button("Add path", icon="add", on_click=lambda: edit(add, None, rebuild=True)).props(
            "flat dense no-caps"
        )


def _exit(step: dict[str, Any], edit: Edit, ctx: PanelContext) -> None:
    reason = (
        ui.input("Exit reason", value=(step.get("config") or {}).get("reason", ""))
        .props("outlined dense")
        .classes("w-full")
        .mark("exit-reason")
    )
    reason.on_value_change(
        lambda e: edit(lambda s: s["config"].__setitem__("reason", e.value or ""), "reason")
    )


PANELS: dict[str, Callable[[dict[str, Any], Edit, PanelContext], None]] = {
    "wait": _wait,
    "decide": _decide,
    "branch": _branch,
    "send": _send,
    "update": _update,
    "split": _split,
    "exit": _exit,
}


# ---- journey settings -----------------------------------------------------------------------------------


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
        ui.select(
            _options(ctx.refs.segments, entry.get("segmentId")),
            value=entry.get("segmentId"),
            label="When a customer joins segment",
            clearable=True,
            on_change=lambda e: set_entry("segmentId", e.value),
        )
        .props("outlined dense")
        .classes("w-full")
        .mark("entry-segment")
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
        "Customers can always be enrolled by hand (API or customer page) while the journey is active."
    ).classes("text-xs text-grey-7")
    if structure_locked:
        for element in locked:
            element.disable()
