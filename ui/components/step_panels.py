"""The step panel: name, the type's configuration and where it goes next. Simple types live here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui
from nicegui.elements.mixins.disableable_element import DisableableElement

from engine.delivery import templates
from ui.components.flow_model import TYPE_NAMES
from ui.components.step_panels_base import (
    Edit,
    PanelContext,
    choice,
    config_input,
    config_select,
    other_steps,
    set_or_drop,
)
from ui.components.step_panels_rows import branch_panel, split_panel, update_panel
from ui.layout import STEP_STYLE

UNITS = {"minutes": "minutes", "hours": "hours", "days": "days"}


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
            choice(other_steps(ctx, step_id), step.get("next"), "Then go to", "next",
                   lambda value: edit(lambda s: set_or_drop(s, "next", value), None))
            ui.label("Empty: the journey completes here.").classes("text-xs text-grey-7")
    if ctx.readonly:  # the structure is locked: show the configuration, allow no edits
        for element in panel.descendants():
            if isinstance(element, DisableableElement) and not isinstance(element, ui.button):
                element.disable()


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
            lambda s: set_or_drop(s["config"], "duration", int(e.value) if e.value else None), "duration"
        )
    )
    unit.on_value_change(lambda e: edit(lambda s: s["config"].__setitem__("unit", e.value), None))
    config_input(step, edit, "untilEvent", "…or until this event arrives (optional)", "wait-until")


def _decide(step: dict[str, Any], edit: Edit, ctx: PanelContext) -> None:
    config = step.get("config") or {}
    config_select(step, edit, "decisionFlowId", ctx.refs.decision_flows, "Decision flow", "decide-flow")
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
    config_input(step, edit, "storeResultAs", "Store the offers as", "decide-store")


SEND_MODES = {"message": "Write a message", "offer": "Use an offer"}
HINT_PATHS = 12  # attribute paths the message hint names
TEMPLATE_HINT = (
    "Jinja2: {{ customer.firstName }} puts in the customer's attribute; any customer.<attribute> works, "
    "and customer.id, journey.name, event.properties.<name>. A missing one prints as nothing."
)


def send_mode(config: dict[str, Any]) -> str:
    """"offer" when the step sends an offer (chosen by a decide step or fixed), else "message"."""
    return "offer" if config.get("offerFrom") or config.get("offerId") else "message"


def _send(step: dict[str, Any], edit: Edit, ctx: PanelContext) -> None:
    config = step.get("config") or {}
    channels = {
        key: f"{name} · {ctx.refs.channel_types.get(key, '')}" for key, name in ctx.refs.channels.items()
    }
    config_select(step, edit, "channelId", channels, "Channel", "send-channel")
    mode = ui.toggle(SEND_MODES, value=send_mode(config)).props("no-caps spread dense").classes("w-full")
    mode.mark("send-mode")
    with ui.column().classes("w-full gap-2") as offer:
        stored = {
            s["config"]["storeResultAs"]: f"{s['config']['storeResultAs']} (from {s.get('name') or s['id']})"
            for s in ctx.state.doc["steps"]
            if s.get("type") == "decide" and (s.get("config") or {}).get("storeResultAs")
        }
        config_select(step, edit, "offerFrom", stored, "Offer chosen by a decide step", "send-offer-from")
        config_select(step, edit, "offerId", ctx.refs.offers, "…or always this offer", "send-offer")
        ui.label("Message override (optional): leave it empty to send the offer's own creative.").classes(
            "text-sm font-medium")
    _message_fields(step, edit, [attribute.path for attribute in ctx.attributes])

    def show(value: str) -> None:
        offer.set_visibility(value == "offer")

    def switch(value: str) -> None:
        show(value)
        if value == "message":  # the message replaces the offer; "Use an offer" keeps it as an override
            edit(_drop_offer, None, rebuild=True)

    show(mode.value)
    mode.on_value_change(lambda e: switch(e.value))


def _drop_offer(step: dict[str, Any]) -> None:
    for key in ("offerFrom", "offerId"):
        step["config"].pop(key, None)


def _message_fields(step: dict[str, Any], edit: Edit, paths: list[str]) -> None:
    """Subject and body of the step's `template`, each with live template-syntax feedback, and a hint naming
    the attribute `paths` customers have."""
    template = (step.get("config") or {}).get("template") or {}
    for key in ("subject", "body"):
        if key == "subject":
            field: ui.input | ui.textarea = ui.input("Subject", value=template.get(key) or "")
            field.props("outlined dense")
        else:
            field = ui.textarea("Message (Jinja2)", value=template.get(key) or "").props("outlined autogrow")
            field.props('input-style="min-height: 6rem"')
        field.classes("w-full").mark(f"send-{key}")
        feedback = ui.label().classes("text-xs text-negative").mark(f"send-{key}-feedback")

        def changed(value: str, key: str = key, feedback: ui.label = feedback) -> None:
            problem = templates.check(value) if value else None
            feedback.text = f"✗ {problem}" if problem else ""
            edit(lambda s: _set_template(s, key, value), f"{step['id']}:template:{key}")

        problem = templates.check(field.value) if field.value else None
        feedback.text = f"✗ {problem}" if problem else ""
        field.on_value_change(lambda e, changed=changed: changed(e.value or ""))
    ui.label(TEMPLATE_HINT).classes("text-xs text-grey-7").mark("send-template-hint")
    if paths:
        shown = ", ".join(paths[:HINT_PATHS]) + (", …" if len(paths) > HINT_PATHS else "")
        ui.label(f"Your customers have: {shown}").classes("text-xs text-grey-7").mark("send-template-paths")


def _set_template(step: dict[str, Any], key: str, value: str) -> None:
    current = dict(step["config"].get("template") or {})
    set_or_drop(current, key, value)
    set_or_drop(step["config"], "template", current or None)


def _exit(step: dict[str, Any], edit: Edit, ctx: PanelContext) -> None:
    config_input(step, edit, "reason", "Exit reason", "exit-reason", required=True)


PANELS: dict[str, Callable[[dict[str, Any], Edit, PanelContext], None]] = {
    "wait": _wait,
    "decide": _decide,
    "branch": branch_panel,
    "send": _send,
    "update": update_panel,
    "split": split_panel,
    "exit": _exit,
}
