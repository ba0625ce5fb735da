"""The send step in the editor: the channel, and either an offer (from a decide step or fixed, with an
optional message override) or a message of its own, with live template feedback."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from engine import templates
from engine.journeys.steps.base import name_of
from engine.references import References
from ui.components.step_panels_base import Edit, PanelContext, StepPanel, config_select, set_or_drop

SEND_MODES = {"message": "Write a message", "offer": "Use an offer"}
HINT_PATHS = 12  # attribute paths the message hint names
TEMPLATE_HINT = (
    "Jinja2: {{ customer.firstName }} puts in the customer's attribute; any customer.<attribute> works, "
    "and customer.id, journey.name, event.properties.<name>. A missing one prints as nothing."
)


def send_mode(config: dict[str, Any]) -> str:
    """"offer" when the step sends an offer (chosen by a decide step or fixed), else "message"."""
    return "offer" if config.get("offerFrom") or config.get("offerId") else "message"


def panel(step: dict[str, Any], edit: Edit, ctx: PanelContext) -> None:
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


def defaults(doc: dict[str, Any], refs: References) -> dict[str, Any]:
    """The first channel of the catalogue and the offers the latest decide step keeps."""
    config: dict[str, Any] = {}
    channels = list(refs.channels)
    if channels:
        config["channelId"] = channels[0]
    stored = [
        s["config"]["storeResultAs"]
        for s in doc["steps"]
        if s.get("type") == "decide" and (s.get("config") or {}).get("storeResultAs")
    ]
    if stored:
        config["offerFrom"] = stored[-1]
    return config


def summary(config: dict[str, Any], refs: References, decided_by: dict[str, str]) -> str:
    """e.g. "Email · offer from Pick offer", "SMS · “Welcome”"."""
    channel_id = config.get("channelId")
    channel = name_of(refs.channels, channel_id) if channel_id else "choose a channel"
    if config.get("offerFrom"):
        what = f"offer from {decided_by.get(config['offerFrom'], config['offerFrom'])}"
    elif config.get("offerId"):
        what = name_of(refs.offers, config["offerId"])
    else:
        subject = ((config.get("template") or {}).get("subject") or "").strip()
        what = f"“{subject[:40]}”" if subject else "message"
    return f"{channel} · {what}"


def result(detail: dict[str, Any]) -> None:
    """Under a test run's send: the message it would deliver, rendered for the test customer (or why it
    cannot be)."""
    if detail.get("previewError"):
        problem = ui.label(f"✗ {detail['previewError']}").classes("text-xs text-negative pl-16")
        problem.mark("test-preview-error")
        return
    message = detail.get("preview")
    if not message:
        return
    with ui.card().props("flat bordered").classes("ml-16 p-2 gap-1").mark("test-preview"):
        if message.get("subject"):
            ui.label(message["subject"]).classes("text-sm font-semibold").mark("test-preview-subject")
        ui.label(message.get("body") or "").classes("text-sm whitespace-pre-wrap").mark("test-preview-body")


PANEL = StepPanel("send", "#10b981", panel, defaults, summary, result)
