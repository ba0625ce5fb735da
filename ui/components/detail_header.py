"""Detail pages (customer, segment, decision flow): a breadcrumb, and delete."""

from __future__ import annotations

from collections.abc import Callable

from nicegui import ui

from engine.errors import JourneysError


def breadcrumb(parent: str, path: str, title: str, *, marker: str = "") -> ui.row:
    """'Parent / Title' as a header row; enter the row (`with`) to add the page's buttons after the title."""
    with ui.row().classes("w-full items-center") as row:
        ui.link(parent, path).classes("text-sm")
        ui.label("/").classes("text-sm text-gray-400")
        ui.label(title).classes("text-2xl font-semibold grow").mark(marker)
    return row


def delete_and_leave(delete: Callable[[], None], path: str) -> None:
    """Delete the item and go back to its list; a refusal (e.g. a journey still uses it) is shown instead."""
    try:
        delete()
    except JourneysError as error:
        ui.notify(error.message, type="negative", multi_line=True)
        return
    ui.navigate.to(path)
