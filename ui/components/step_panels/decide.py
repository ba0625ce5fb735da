"""The decide step in the editor: the decision flow, how many offers to keep and the name to keep them as."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from engine.journeys.steps.base import name_of, plural
from engine.references import References
from ui.components.step_panels_base import Edit, PanelContext, StepPanel, config_input, config_select


def panel(step: dict[str, Any], edit: Edit, ctx: PanelContext) -> None:
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


def defaults(doc: dict[str, Any], refs: References) -> dict[str, Any]:
    """The first decision flow of the catalogue, one offer, kept as `offers`."""
    flows = list(refs.decision_flows)
    config: dict[str, Any] = {"maxOffers": 1, "storeResultAs": "offers"}
    return {"decisionFlowId": flows[0], **config} if flows else config


def summary(config: dict[str, Any], refs: References, decided_by: dict[str, str]) -> str:
    """e.g. "Loans → 1 offer"."""
    flow = config.get("decisionFlowId")
    text = name_of(refs.decision_flows, flow) if flow else "choose a decision flow"
    return f"{text} → {plural(config.get('maxOffers') or 1, 'offer')}"


PANEL = StepPanel("psychology", "#a855f7", panel, defaults, summary)
