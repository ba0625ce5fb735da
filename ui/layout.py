"""The shared page frame: header with navigation, dark-mode switch, the user menu (who is signed in, the
admin pages, sign-out) and a content column; and `may`/`guard`, which pages use to disable what the signed-in
role may not do, saying why."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from nicegui import app, ui
from nicegui.elements.mixins.disableable_element import DisableableElement

from engine.access import roles
from ui import session
from ui.components.step_panels import STEP_STYLE

__all__ = ["STEP_STYLE", "frame", "guard", "house_style", "may"]  # STEP_STYLE: the pages' palette colours

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

# Said at the top of every page to a role that may not do everything, so disabled actions explain themselves.
ROLE_NOTICES = {
    "viewer": "You are signed in as a viewer: you can look at everything; editors and admins make changes.",
    "editor": "You are signed in as an editor: deleting and archiving, users and API keys are for admins.",
}
E = TypeVar("E", bound=DisableableElement)

def house_style() -> None:
    """One look for every page: buttons, toggles and tabs in sentence case (no UPPERCASE), filled buttons
    without a shadow. Class defaults: they apply to everything created after this.

    The convention on top: a page's or dialog's main action is a filled button; a page header's other
    actions are `outline`; toolbar, row and dialog-dismiss actions are `flat` (icon-only ones `round`)."""
    ui.button.default_props("no-caps unelevated")
    ui.dropdown_button.default_props("no-caps unelevated")
    ui.toggle.default_props("no-caps unelevated")
    ui.tabs.default_props("no-caps")


@contextmanager
def frame(title: str, *, wide: bool = False) -> Iterator[None]:
    """Wrap a page: header, navigation, dark mode, and a padded content column."""
    house_style()
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
        _user_menu()
    column = ui.column().classes("w-full p-4 gap-4" + ("" if wide else " max-w-7xl mx-auto"))
    with column:
        actor = session.signed_in()
        if actor is not None and actor.role in ROLE_NOTICES:
            ui.label(ROLE_NOTICES[actor.role]).classes("text-sm text-slate-500").mark("role-notice")
        yield


def may(needed: str) -> bool:
    """Whether the signed-in person's role is at least `needed`."""
    actor = session.signed_in()
    return actor is not None and roles.allows(actor.role, needed)


def guard(element: E, needed: str) -> E:
    """Disable `element` when the signed-in role is below `needed` (the role notice above every page says
    why; the engine refuses the change anyway)."""
    if not may(needed):
        element.disable()
    return element


def _user_menu() -> None:
    actor = session.signed_in()
    if actor is None:
        return
    button = ui.button(icon="account_circle").props("flat round dense color=white").mark("user-menu")
    with button, ui.menu():
        with ui.item().props("dense"):
            ui.label(f"{actor.name} · {actor.role}").classes("text-sm text-slate-500").mark("signed-in-as")
        if roles.allows(actor.role, "admin"):
            ui.menu_item("Users and API keys", lambda: ui.navigate.to("/admin")).mark("menu-admin")
            ui.menu_item("Audit log", lambda: ui.navigate.to("/audit")).mark("menu-audit")
        ui.menu_item("Sign out", _sign_out).mark("sign-out")


def _sign_out() -> None:
    session.forget()
    ui.navigate.to("/login")


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
