"""The wait step in the editor: how it ends (after a duration, until a date attribute ± days at a time of day,
the next of some weekdays at a time of day, a fixed date-time), what happens when that date has passed, and
the event that may end it early."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from engine.journeys.steps.wait import UNITS, WEEKDAYS, duration_words
from engine.references import References
from ui.components.step_panels_base import Edit, PanelContext, StepPanel, config_input, set_or_drop

MODES = {"duration": "After a duration", "attribute": "Until a date attribute", "weekdays": "Next weekday",
         "datetime": "A fixed date-time"}
# The config each mode starts from (untilEvent is kept across modes).
STARTS: dict[str, dict[str, Any]] = {
    "duration": {"duration": 1, "unit": "days"},
    "attribute": {"until": {"attribute": None, "at": "09:00"}},
    "weekdays": {"until": {"weekdays": ["mon"], "at": "09:00"}},
    "datetime": {"until": {"datetime": None}},
}
IF_PAST = {"continue": "Move on at once", "exit": "Exit the journey"}


def mode_of(config: dict[str, Any]) -> str:
    until = config.get("until")
    if not isinstance(until, dict):
        return "duration"
    # The mode whose field is filled in; a mode just chosen has its key with no value yet.
    modes = ("attribute", "weekdays", "datetime")
    return next((m for m in modes if until.get(m)), next((m for m in modes if m in until), "attribute"))


def _switch(s: dict[str, Any], mode: str) -> None:
    kept = {key: s["config"][key] for key in ("untilEvent",) if key in s["config"]}
    s["config"] = {**STARTS[mode], **kept}


def panel(step: dict[str, Any], edit: Edit, ctx: PanelContext) -> None:
    config = step.get("config") or {}
    mode = mode_of(config)
    (
        ui.select(MODES, value=mode, label="Wait")
        .props("outlined dense")
        .classes("w-full")
        .mark("wait-mode")
        .on_value_change(lambda e: edit(lambda s: _switch(s, e.value), None, rebuild=True))
    )
    if mode == "duration":
        _duration_fields(config, edit)
    else:
        _until_fields(step, config.get("until") or {}, mode, edit, ctx)
    config_input(step, edit, "untilEvent", "…or until this event arrives (optional)", "wait-until")


def _duration_fields(config: dict[str, Any], edit: Edit) -> None:
    with ui.row().classes("w-full gap-2 no-wrap"):
        duration = (
            ui.number("Wait for", value=config.get("duration"), min=1, step=1, precision=0)
            .props("outlined dense")
            .classes("grow")
            .mark("wait-duration")
        )
        unit = (
            ui.select(list(UNITS), value=config.get("unit", "days"), label="Unit")
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


def _until_fields(step: dict[str, Any], until: dict[str, Any], mode: str, edit: Edit,
                  ctx: PanelContext) -> None:
    def put(s: dict[str, Any], key: str, value: Any) -> None:
        holder = s["config"].setdefault("until", {})
        if key == mode:
            holder[key] = value  # kept even when emptied (null): its key is what says the mode
        else:
            set_or_drop(holder, key, value)

    def write(key: str, value: Any) -> None:
        edit(lambda s: put(s, key, value), f"{step['id']}:until:{key}")

    def field(label: str, key: str, marker: str, **props: Any) -> ui.input:
        return (
            ui.input(label, value=until.get(key) or "", **props)
            .props("outlined dense")
            .classes("grow")
            .mark(marker)
            .on_value_change(lambda e: write(key, e.value or None))
        )

    if mode == "attribute":
        names = [a.path.removeprefix("customer.") for a in ctx.attributes]
        field("Date attribute", "attribute", "wait-attribute", autocomplete=names)
        with ui.row().classes("w-full gap-2 no-wrap"):
            (
                ui.number("± days", value=(until.get("offset") or {}).get("days", 0), step=1, precision=0)
                .props("outlined dense")
                .classes("grow")
                .mark("wait-offset-days")
                .on_value_change(lambda e: write("offset", {"days": int(e.value)} if e.value else None))
            )
            field("At (HH:MM, local)", "at", "wait-at")
    elif mode == "weekdays":
        (
            ui.select(list(WEEKDAYS), value=until.get("weekdays") or [], label="On", multiple=True)
            .props("outlined dense use-chips")
            .classes("w-full")
            .mark("wait-weekdays")
            .on_value_change(
                lambda e: write("weekdays", [day for day in WEEKDAYS if day in (e.value or [])] or None)
            )
        )
        field("At (HH:MM, local)", "at", "wait-at")
    else:
        field("Date-time (ISO, e.g. 2026-03-01T09:00:00Z)", "datetime", "wait-datetime")
    if mode != "weekdays":  # the next weekday is never in the past
        (
            ui.select(IF_PAST, value=step.get("config", {}).get("ifPast", "continue"),
                      label="If the date has passed or is missing")
            .props("outlined dense")
            .classes("w-full")
            .mark("wait-if-past")
            .on_value_change(lambda e: edit(lambda s: s["config"].__setitem__("ifPast", e.value), None))
        )


def defaults(doc: dict[str, Any], refs: References) -> dict[str, Any]:
    return dict(STARTS["duration"])


def summary(config: dict[str, Any], refs: References, decided_by: dict[str, str]) -> str:
    """e.g. "3 days or until purchase", "until renewalDate + 3 d at 09:00", "next mon, fri at 09:00"."""
    mode, until = mode_of(config), config.get("until") or {}
    at = f" at {until['at']}" if until.get("at") else ""
    if mode == "duration":
        text = duration_words(config.get("duration"), config.get("unit") or "days") or "set a duration"
    elif mode == "attribute":
        days = (until.get("offset") or {}).get("days")
        offset = f" {'−' if days < 0 else '+'} {abs(days)} d" if days else ""
        text = f"until {until.get('attribute') or '(attribute)'}{offset}{at}"
    elif mode == "weekdays":
        text = f"next {', '.join(until.get('weekdays') or []) or '(weekday)'}{at}"
    else:
        text = f"until {until.get('datetime') or '(date-time)'}"
    return f"{text} or until {config['untilEvent']}" if config.get("untilEvent") else text


PANEL = StepPanel("schedule", "#6366f1", panel, defaults, summary)
