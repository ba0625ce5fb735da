"""The shared page frame: header with navigation, dark-mode switch, and a content column."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import app, ui

NAV = [
    ("Journeys", "/journeys", "account_tree"),
    ("Monitor", "/monitor", "monitor_heart"),
    ("Customers", "/customers", "people"),
    ("Segments", "/segments", "groups"),
    ("Offers", "/offers", "local_offer"),
    ("Decision flows", "/decision-flows", "psychology"),
    ("Channels", "/channels", "campaign"),
    ("Deliveries", "/deliveries", "outbox"),
]

# One colour and icon per step type, used alike on palette, canvas, monitor and charts.
STEP_STYLE: dict[str, tuple[str, str]] = {
    "wait": ("schedule", "#6366f1"),
    "decide": ("psychology", "#a855f7"),
    "branch": ("call_split", "#f59e0b"),
    "send": ("send", "#10b981"),
    "update": ("edit", "#3b82f6"),
    "split": ("alt_route", "#ec4899"),
    "exit": ("logout", "#ef4444"),
}


@contextmanager
def frame(title: str, *, wide: bool = False) -> Iterator[None]:
    """Wrap a page: header, navigation, dark mode, and a padded content column."""
    ui.page_title(f"{title} · Journeys")
    dark = ui.dark_mode(app.storage.user.get("dark", False) if _has_user_storage() else False)
    ui.colors(primary="#4f46e5")
    with ui.header().classes("items-center gap-4 px-4 py-2 bg-indigo-700"):
        ui.link("Journeys", "/").classes("text-lg font-bold text-white no-underline")
        with ui.row().classes("gap-1 grow"):
            for label, target, icon in NAV:
                with ui.link(target=target).classes("no-underline"):
                    ui.button(label, icon=icon).props("flat dense no-caps color=white")
        ui.button(icon="dark_mode", on_click=lambda: _toggle(dark)).props(
            "flat round dense color=white"
        ).tooltip("Dark mode")
    column = ui.column().classes("w-full p-4 gap-4" + ("" if wide else " max-w-7xl mx-auto"))
    with column:
        yield


def _has_user_storage() -> bool:
    try:
        _ = app.storage.user
    except (RuntimeError, AssertionError):
        return False
    return True


def _toggle(dark: ui.dark_mode) -> None:
    dark.toggle()
    if _has_user_storage():
        app.storage.user["dark"] = bool(dark.value)
