"""The exit step in the editor: its reason."""

from __future__ import annotations

from typing import Any

from engine.references import References
from ui.components.step_panels_base import Edit, PanelContext, StepPanel, config_input


def panel(step: dict[str, Any], edit: Edit, ctx: PanelContext) -> None:
    config_input(step, edit, "reason", "Exit reason", "exit-reason", required=True)


def defaults(doc: dict[str, Any], refs: References) -> dict[str, Any]:
    return {"reason": "exited"}


def summary(config: dict[str, Any], refs: References, decided_by: dict[str, str]) -> str:
    return config.get("reason") or "exit"


PANEL = StepPanel("logout", "#ef4444", panel, defaults, summary)
