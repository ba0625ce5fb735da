"""Admin pages: the audit log (`/audit`) and users and API keys (`/admin`): create users, change their role,
deactivate them; make API keys (shown once), revoke them."""

from __future__ import annotations

from typing import Any

from nicegui import run, ui

from engine.access import api_keys, audit, users
from engine.access.roles import Actor
from engine.engine import Engine
from engine.errors import JourneysError
from models.access import ApiKeyCreate, UserCreate, UserUpdate
from ui import session
from ui.components.audit_table import audit_table
from ui.components.dialogs import dialog_actions
from ui.components.paged_table import PagedTable, column, notify_problem, when
from ui.dependencies import EngineDep
from ui.layout import frame, may

ROLE_OPTIONS = {"viewer": "Viewer (reads)", "editor": "Editor (changes)", "admin": "Admin (everything)"}


def _admins_only(what: str) -> bool:
    """True for an admin; otherwise say who may see this page and why not."""
    if may("admin"):
        return True
    actor = session.signed_in()
    role = actor.role if actor else "not signed in"
    ui.label(f"Only admins may see {what}; you are signed in as {role}.").mark("admins-only")
    return False


@ui.page("/audit")
async def audit_page(engine: EngineDep) -> None:
    with frame("Audit log"):
        ui.label("Audit log").classes("text-2xl font-semibold")
        if not _admins_only("the audit log"):
            return
        ui.label(
            "Who created, changed, activated, paused, archived or deleted what, and when (newest first)."
        ).classes("text-slate-500")
        table = audit_table(lambda limit, offset: audit.list_entries(engine, limit, offset), page_size=25)
        table.table.mark("audit-log")
        await table.refresh()


@ui.page("/admin")
async def admin_page(engine: EngineDep) -> None:
    with frame("Users and API keys"):
        ui.label("Users and API keys").classes("text-2xl font-semibold")
        if not _admins_only("users and API keys"):
            return
        people = UserList(engine)
        keys = KeyList(engine)
        await people.listing.refresh()
        await keys.listing.refresh()


class UserList:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        with ui.row().classes("w-full items-center"):
            ui.label("Users").classes("text-lg font-semibold")
            ui.space()
            ui.button("New user", icon="person_add", on_click=self.create_dialog).props(
                "unelevated no-caps"
            ).mark("new-user")
        columns = [
            column("email", "E-mail"),
            column("name", "Name"),
            column("role", "Role"),
            column("active", "Active"),
            column("lastLoginAt", "Last sign-in"),
            column("actions", ""),
        ]
        self.listing = PagedTable(
            columns,
            lambda limit, offset: users.list_users(self.engine, limit, offset),
            row=_user_row,
            noun=("user", "users"),
            page_size=20,
        )
        self.listing.table.mark("users")
        self.listing.table.add_slot(
            "body-cell-actions",
            """<q-td :props="props" class="text-right">
            <q-btn flat dense no-caps icon="edit" label="Change"
              @click="$parent.$emit('change', props.row)" />
            </q-td>""",
        )
        self.listing.table.on("change", lambda event: self.change_dialog(event.args))

    def create_dialog(self) -> None:
        with ui.dialog() as dialog, ui.card().classes("w-96"):
            ui.label("New user").classes("text-lg font-semibold")
            email = ui.input("E-mail").props("outlined dense").classes("w-full").mark("user-email")
            name = ui.input("Name").props("outlined dense").classes("w-full")
            role = (
                ui.select(ROLE_OPTIONS, value="viewer", label="Role")
                .props("outlined dense")
                .classes("w-full")
            )
            role.mark("user-role")
            password = ui.input("Password (8 or more characters)", password=True).props("outlined dense")
            password.classes("w-full").mark("user-password")

            async def create() -> None:
                try:
                    body = UserCreate(
                        email=email.value or "",
                        name=name.value or "",
                        role=role.value,
                        password=password.value or "",
                    )
                    await run.io_bound(users.create_user, self.engine, body)
                except (JourneysError, ValueError) as error:
                    notify_problem(error)
                    return
                dialog.close()
                await self.listing.refresh()

            dialog_actions(dialog, "Create", create, "create-user")
        dialog.open()

    def change_dialog(self, row: dict[str, Any]) -> None:
        with ui.dialog() as dialog, ui.card().classes("w-96"):
            ui.label(f"Change {row['email']}").classes("text-lg font-semibold")
            role = ui.select(ROLE_OPTIONS, value=row["role"], label="Role").props("outlined dense")
            role.classes("w-full").mark("change-role")
            active = ui.switch("Active (may sign in)", value=row["active"] == "yes").mark("change-active")
            password = ui.input("New password (leave empty to keep)", password=True).props("outlined dense")
            password.classes("w-full").mark("change-password")
            ui.label("A new password or deactivation signs the user out everywhere else.").classes(
                "text-sm text-slate-500"
            )

            async def save() -> None:
                try:
                    body = UserUpdate(
                        role=role.value, active=bool(active.value), password=password.value or None
                    )
                    await run.io_bound(users.update_user, self.engine, row["id"], body)
                except (JourneysError, ValueError) as error:
                    notify_problem(error)
                    return
                await session.keep_after_change(self.engine, row["id"])
                dialog.close()
                await self.listing.refresh()

            dialog_actions(dialog, "Save", save, "save-user")
        dialog.open()


class KeyList:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        with ui.row().classes("w-full items-center"):
            ui.label("API keys").classes("text-lg font-semibold")
            ui.label("for automation: send as Authorization: Bearer <key>").classes("text-sm text-slate-500")
            ui.space()
            ui.button("New API key", icon="key", on_click=self.create_dialog).props(
                "unelevated no-caps"
            ).mark("new-key")
        columns = [
            column("name", "Name"),
            column("role", "Role"),
            column("prefix", "Starts with"),
            column("createdBy", "Made by"),
            column("createdAt", "Made"),
            column("lastUsedAt", "Last used"),
            column("state", "State"),
            column("actions", ""),
        ]
        self.listing = PagedTable(
            columns,
            lambda limit, offset: api_keys.list_keys(self.engine, limit, offset),
            row=_key_row,
            noun=("key", "keys"),
            page_size=20,
        )
        self.listing.table.mark("api-keys")
        self.listing.table.add_slot(
            "body-cell-actions",
            """<q-td :props="props" class="text-right">
            <q-btn v-if="props.row.state === 'active'" flat dense no-caps color="negative" icon="block"
              label="Revoke" @click="$parent.$emit('revoke', props.row)" /></q-td>""",
        )
        self.listing.table.on("revoke", lambda event: self.revoke(event.args["id"]))

    def create_dialog(self) -> None:
        with ui.dialog() as dialog, ui.card().classes("w-96"):
            ui.label("New API key").classes("text-lg font-semibold")
            name = ui.input("Name (what uses it)").props("outlined dense").classes("w-full").mark("key-name")
            role = (
                ui.select(ROLE_OPTIONS, value="viewer", label="Role")
                .props("outlined dense")
                .classes("w-full")
            )
            role.mark("key-role")
            shown = ui.column().classes("w-full")

            async def create() -> None:
                try:
                    created = await run.io_bound(
                        api_keys.create_key, self.engine,
                        ApiKeyCreate(name=name.value or "", role=role.value),
                        _label(session.signed_in()),
                    )
                except (JourneysError, ValueError) as error:
                    notify_problem(error)
                    return
                if created is None:
                    return
                shown.clear()
                with shown:
                    ui.label("Copy the key now: it is not shown again.").classes("text-warning")
                    ui.input(value=created.key).props("outlined dense readonly").classes("w-full").mark(
                        "new-key-value"
                    )
                await self.listing.refresh()

            dialog_actions(dialog, "Create", create, "create-key", dismiss="Close")
        dialog.open()

    async def revoke(self, key_id: str) -> None:
        try:
            await run.io_bound(api_keys.revoke_key, self.engine, key_id)
        except JourneysError as error:
            notify_problem(error)
            return
        ui.notify("Key revoked: it no longer works.")
        await self.listing.refresh()


def _label(actor: Actor | None) -> str:
    return actor.label if actor is not None else ""


def _user_row(item: dict[str, Any]) -> dict[str, Any]:
    return {**item, "active": "yes" if item["active"] else "no", "lastLoginAt": when(item["lastLoginAt"])}


def _key_row(item: dict[str, Any]) -> dict[str, Any]:
    return {
        **item,
        "createdAt": when(item["createdAt"]),
        "lastUsedAt": when(item["lastUsedAt"]),
        "state": "revoked" if item["revokedAt"] else "active",
    }
