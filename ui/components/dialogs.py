"""The action row every dialog ends with: dismiss on the left of the one primary action."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui


def dialog_actions(dialog: ui.dialog, label: str, action: Callable[..., Any], marker: str = "", *,
                   dismiss: str = "Cancel", colour: str = "primary", icon: str | None = None) -> ui.button:
    """'Cancel' (closes `dialog`) and the primary button, right-aligned; returns the primary button."""
    with ui.row().classes("w-full justify-end"):
        ui.button(dismiss, on_click=dialog.close).props("flat no-caps")
        primary = ui.button(label, icon=icon, on_click=action).props(f"unelevated no-caps color={colour}")
        return primary.mark(marker)
