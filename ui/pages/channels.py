"""Channels: the list, create/edit per type (secrets shown masked as "***"), delete, and send a test."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import run, ui
from pydantic import ValidationError

from engine.delivery import channels_admin
from engine.engine import Engine
from engine.errors import JourneysError
from engine.references import catalog
from models.channels import ChannelCreate, ChannelUpdate, TestDeliveryIn
from ui.components.dialogs import dialog_actions
from ui.components.paged_table import notify_problem, problem
from ui.dependencies import EngineDep
from ui.layout import frame, guard
from ui.page_load import first_read

TYPE_ICONS = {"email": "mail", "webhook": "webhook", "sms": "sms", "push": "notifications", "in_app": "inbox"}
HTTP_TYPES = {"webhook", "sms", "push"}
TYPE_LABELS = {"email": "Email (SMTP)", "webhook": "Webhook", "sms": "SMS provider", "push": "Push provider",
               "in_app": "In-app inbox"}


@ui.page("/channels")
async def channels_page(engine: EngineDep) -> None:
    channels = await first_read(_channels, engine)
    if channels is None:  # still loading (the page says so) or the app is stopping
        return
    with frame("Channels"):
        ChannelList(engine).show(channels)


def _channels(engine: Engine) -> list[dict[str, Any]]:
    return channels_admin.list_channels(engine, limit=200)["data"]


def target(channel: dict[str, Any]) -> str:
    """Where a channel delivers, in a few words."""
    config = channel["config"]
    if channel["type"] == "email":
        return f"{config.get('host')}:{config.get('port')} from {config.get('fromAddress')}"
    if channel["type"] == "in_app":
        return "the customer's stored inbox"
    return str(config.get("url", ""))


class ChannelList:
    """Every channel as a row with its actions; every database call runs off the event loop."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        with ui.row().classes("w-full items-center gap-3"):
            ui.label("Channels").classes("text-2xl font-semibold")
            ui.space()
            new = ui.button("New channel", icon="add",
                            on_click=lambda: ChannelEditor(self.engine, None, self.reload))
            guard(new.props("unelevated no-caps").mark("new-channel"), "editor")
        self.body = ui.column().classes("w-full gap-2").mark("channel-list")

    async def reload(self) -> None:
        channels = await run.io_bound(_channels, self.engine)
        if channels is not None and not self.body.is_deleted:  # None: the app is shutting down
            self.show(channels)

    def show(self, channels: list[dict[str, Any]]) -> None:
        self.body.clear()
        with self.body:
            if not channels:
                ui.label("No channels yet: create one.").classes("text-grey-7").mark("empty")
            for channel in channels:
                self._row(channel)

    def _row(self, channel: dict[str, Any]) -> None:
        channel_id = channel["id"]
        with ui.card().props("flat bordered").classes("w-full py-2").mark(f"channel-{channel_id}"), \
                ui.row().classes("w-full items-center gap-3 no-wrap"):
            ui.icon(TYPE_ICONS.get(channel["type"], "campaign")).classes("text-2xl text-indigo-600")
            with ui.column().classes("gap-0 grow"):
                ui.label(channel["name"]).classes("font-semibold")
                ui.label(f"{channel_id} · {TYPE_LABELS.get(channel['type'], channel['type'])} · "
                         f"{target(channel)}").classes("text-xs text-slate-500")
            if channel["rateLimit"]:
                ui.badge(f"≤ {channel['rateLimit']:g}/s", color="grey-6").tooltip("Rate limit")
            guard(ui.button(icon="send", on_click=lambda: TestSender.open(self.engine, channel)).props(
                "flat round dense").tooltip("Send a test delivery").mark(f"test-{channel_id}"), "editor")
            ui.button(icon="edit", on_click=lambda: ChannelEditor(self.engine, channel, self.reload)).props(
                "flat round dense").tooltip("Edit").mark(f"edit-{channel_id}")
            guard(ui.button(icon="delete", on_click=lambda: self.confirm_delete(channel)).props(
                "flat round dense color=negative").tooltip("Delete").mark(f"delete-{channel_id}"), "admin")

    def confirm_delete(self, channel: dict[str, Any]) -> None:
        with ui.dialog() as dialog, ui.card():
            ui.label(f"Delete channel {channel['name']}?").classes("font-semibold")
            ui.label("Deliveries still queued for it will fail.").classes("text-sm text-slate-500")
            dialog_actions(dialog, "Delete", lambda: self.delete(dialog, channel["id"]), "confirm-delete",
                           colour="negative")
        dialog.open()

    async def delete(self, dialog: ui.dialog, channel_id: str) -> None:
        try:
            await run.io_bound(channels_admin.delete_channel, self.engine, channel_id)
        except JourneysError as error:
            notify_problem(error)
        dialog.close()
        await self.reload()


class ChannelEditor:
    """The create/edit dialog; its fields follow the chosen type. Secrets arrive masked and a masked
    value sent back keeps the stored secret."""

    def __init__(self, engine: Engine, channel: dict[str, Any] | None,
                 on_saved: Callable[[], Awaitable[None]]) -> None:
        self.engine = engine
        self.channel = channel
        self.on_saved = on_saved
        self.inputs: dict[str, Any] = {}
        with ui.dialog() as self.dialog, ui.card().classes("w-[560px] max-w-full"):
            ui.label("Edit channel" if channel else "New channel").classes("text-lg font-semibold")
            self.name = ui.input("Name", value=channel["name"] if channel else "").classes("w-full").mark(
                "channel-name")
            self.id = None if channel else ui.input("Id (optional, generated when empty)").classes(
                "w-full").mark("channel-id")
            self.type = ui.select(TYPE_LABELS, label="Type", value=channel["type"] if channel else "webhook",
                                  on_change=self._show_fields).classes("w-full").mark("channel-type")
            self.rate = ui.number("Rate limit (deliveries per second, empty for none)",
                                  value=channel["rateLimit"] if channel else None, min=0).classes(
                "w-full").mark("channel-rate")
            self.fields = ui.column().classes("w-full gap-1")
            self.error = ui.label().classes("text-negative text-sm").mark("channel-error")
            dialog_actions(self.dialog, "Save", self.save, "channel-save")
        self._show_fields()
        self.dialog.open()

    def _show_fields(self) -> None:
        kind = self.type.value
        stored_type = self.channel["type"] if self.channel else None
        same_form = stored_type == kind or {stored_type, kind} <= HTTP_TYPES
        config = self.channel["config"] if self.channel and same_form else {}
        self.inputs = {}
        self.fields.clear()
        with self.fields:
            if kind == "email":
                self._email_fields(config)
            elif kind == "in_app":
                ui.label("Messages go to the customer's inbox (GET /api/v1/customers/{id}/inbox).").classes(
                    "text-sm text-slate-500")
            else:
                self._http_fields(config)

    def _email_fields(self, config: dict[str, Any]) -> None:
        self.inputs = {
            "host": ui.input("SMTP host", value=config.get("host", "")).mark("email-host"),
            "port": ui.number("Port", value=config.get("port", 25), min=1, max=65535, format="%d").mark(
                "email-port"),
            "starttls": ui.switch("STARTTLS", value=bool(config.get("starttls"))).mark("email-starttls"),
            "username": ui.input("Username", value=config.get("username") or "").mark("email-username"),
            "password": ui.input("Password", value=config.get("password") or "", password=True,
                                 password_toggle_button=True).mark("email-password"),
            "fromAddress": ui.input("From address", value=config.get("fromAddress", "")).mark("email-from"),
        }
        for element in self.inputs.values():
            element.classes("w-full")

    def _http_fields(self, config: dict[str, Any]) -> None:
        headers = "\n".join(f"{name}: {value}" for name, value in (config.get("headers") or {}).items())
        self.inputs = {
            "url": ui.input("Endpoint URL", value=config.get("url", ""),
                            placeholder="https://…").classes("w-full").mark("http-url"),
            "timeoutSeconds": ui.number("Timeout (seconds)", value=config.get("timeoutSeconds", 10), min=0.1,
                                        max=120).classes("w-full").mark("http-timeout"),
            "headers": ui.textarea("Headers, one 'Name: value' a line (values are secrets, shown as ***)",
                                   value=headers).classes("w-full").mark("http-headers"),
        }

    def config(self) -> dict[str, Any]:
        """The form as a channel config (checked by the engine)."""
        values = {key: element.value for key, element in self.inputs.items()}
        if self.type.value == "email":
            return {**values, "port": int(values["port"] or 25), "username": values["username"] or None,
                    "password": values["password"] or None}
        if self.type.value == "in_app":
            return {}
        return {"url": values["url"], "timeoutSeconds": values["timeoutSeconds"] or 10,
                "headers": parse_headers(values["headers"] or "")}

    async def save(self) -> None:
        rate = float(self.rate.value) if self.rate.value else None
        try:
            if self.channel is None:
                assert self.id is not None
                saved = await run.io_bound(channels_admin.create_channel, self.engine, ChannelCreate(
                    id=self.id.value or None, name=self.name.value, type=self.type.value,
                    config=self.config(), rate_limit=rate))
            else:
                saved = await run.io_bound(
                    channels_admin.update_channel, self.engine, self.channel["id"], ChannelUpdate(
                        name=self.name.value, type=self.type.value, config=self.config(), rate_limit=rate))
        except (ValidationError, JourneysError, ValueError) as error:
            self.error.text = problem(error)
            return
        self.dialog.close()
        ui.notify(f"Saved channel {saved['name']}", type="positive")
        await self.on_saved()


def parse_headers(text: str) -> dict[str, str]:
    """'Name: value' lines into a dict (a value left as "***" keeps the stored secret)."""
    headers: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise ValueError(f"headers line {number}: write it as 'Name: value'")
        headers[name.strip()] = value.strip()
    return headers


class TestSender:
    """The "send test" dialog: queues a real delivery of an offer to a customer through the channel."""

    @classmethod
    async def open(cls, engine: Engine, channel: dict[str, Any]) -> TestSender:
        """Read the offers to choose from off the event loop, then open the dialog."""
        return cls(engine, channel, await run.io_bound(lambda: catalog(engine).offers))

    def __init__(self, engine: Engine, channel: dict[str, Any], offers: dict[str, str]) -> None:
        self.engine = engine
        self.channel = channel
        with ui.dialog() as self.dialog, ui.card().classes("w-[480px] max-w-full"):
            ui.label(f"Send a test through {channel['name']}").classes("text-lg font-semibold")
            self.customer = ui.input("Customer id").classes("w-full").mark("test-customer")
            self.offer = ui.select({key: f"{name} ({key})" for key, name in offers.items()}, label="Offer",
                                   with_input=True).classes("w-full").mark("test-offer")
            self.result = ui.label().classes("text-sm").mark("test-result")
            dialog_actions(self.dialog, "Send", self.send, "test-send", dismiss="Close", icon="send")
        self.dialog.open()

    async def send(self) -> None:
        try:
            delivery = await run.io_bound(
                channels_admin.send_test, self.engine, self.channel["id"],
                TestDeliveryIn(customer_id=self.customer.value or "", offer_id=self.offer.value or ""))
        except (ValidationError, JourneysError) as error:
            self.result.text = problem(error)
            self.result.classes(replace="text-sm text-negative")
            return
        self.result.text = f"Queued delivery {delivery['id']} — see Deliveries for its progress."
        self.result.classes(replace="text-sm text-positive")
