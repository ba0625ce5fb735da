"""Deliveries: the outbox as tiles per status and a paginated, filterable table in names (customer, channel,
offer or "message", journey and step; ids as secondary text); a row opens its attempts.

The page follows the live bus: dispatcher rounds and runner batches trigger at most one re-read per
REFRESH_DELAY, done off the event loop.
"""

from __future__ import annotations

from typing import Any

from nicegui import run, ui

from engine.delivery import channels_admin, deliveries
from engine.engine import Engine
from engine.errors import JourneysError
from engine.monitoring.delivery_names import get_named_delivery, list_named_deliveries
from models.channels import DELIVERY_STATUSES
from ui.components.live_refresh import Coalescer
from ui.components.paged_table import PagedTable, column, notify_problem, when
from ui.dependencies import EngineDep
from ui.layout import frame
from ui.page_load import first_read

PAGE_SIZE = 25
REFRESH_DELAY = 1.0  # seconds: live deltas within this window become one refresh
STATUS_COLOURS = {"queued": "#6366f1", "sent": "#10b981", "failed": "#ef4444", "suppressed": "#94a3b8"}
COLUMNS = [column("createdAt", "Queued"), column("customer", "Customer"), column("channel", "Channel"),
           column("content", "Offer / message"), column("journey", "Journey · step"),
           column("status", "Status"), column("attempts", "Attempts", "right"),
           column("lastError", "Last error", classes="max-w-xs truncate"), column("sentAt", "Sent")]
# Cells that show a name with its id (or more) under it as secondary text: column -> (main, secondary) fields.
NAMED_CELLS = {"customer": ("customer", "customerId"), "channel": ("channel", "channelId"),
               "content": ("content", "offerId"), "journey": ("journey", "stepName")}
MESSAGE = "message"  # what the offer column says for a message written in the send step


@ui.page("/deliveries")
async def deliveries_page(
    engine: EngineDep, status: str = "", customer: str = "", channel: str = "", journey: str = ""
) -> None:
    channels = await first_read(_channel_names, engine)
    if channels is None:  # still loading (the page says so) or the app is stopping
        return
    with frame("Deliveries"):
        shown = status if status in DELIVERY_STATUSES else ""
        await DeliveryTable(engine, shown, customer, channel, journey, channels).reload()


def _channel_names(engine: Engine) -> dict[str, str]:
    return {c["id"]: c["name"] for c in channels_admin.list_channels(engine, limit=200)["data"]}


def _row(item: dict[str, Any]) -> dict[str, Any]:
    return {**item, "createdAt": when(item["createdAt"], ""), "sentAt": when(item["sentAt"], ""),
            "lastError": item["lastError"] or "", "customer": item["customerName"] or item["customerId"],
            "channel": item["channelName"], "content": item["offerName"] or MESSAGE,
            "journey": item["journeyName"] or "—"}


def _named_cell(main: str, secondary: str) -> str:
    """A q-td slot: the name, and the id (or step) as small secondary text when it says something more."""
    return (f'<q-td :props="props"><div>{{{{ props.row.{main} }}}}</div>'
            f'<div v-if="props.row.{secondary} && props.row.{secondary} !== props.row.{main}" '
            f'class="text-xs text-slate-500">{{{{ props.row.{secondary} }}}}</div></q-td>')


class DeliveryTable:
    """Status tiles, filters, one page of the outbox, and a detail dialog per delivery."""

    def __init__(self, engine: Engine, status: str, customer: str, channel: str, journey: str,
                 channels: dict[str, str]) -> None:
        self.engine = engine
        self.live = Coalescer(self.reload, REFRESH_DELAY)
        with ui.row().classes("w-full items-center gap-3"):
            ui.label("Deliveries").classes("text-2xl font-semibold")
            ui.space()
            ui.button("Refresh", icon="refresh", on_click=lambda: self.reload()).props(
                "outline").mark("refresh")
        self.tiles: dict[str, ui.label] = {}
        with ui.row().classes("w-full gap-3"):
            for name in DELIVERY_STATUSES:
                with ui.card().classes("min-w-[150px] cursor-pointer").on(
                        "click", lambda _, name=name: self.status.set_value(name)):
                    ui.label(name.title()).classes("text-xs uppercase text-slate-500")
                    self.tiles[name] = ui.label("0").classes("text-3xl font-semibold").style(
                        f"color: {STATUS_COLOURS[name]}").mark(f"tile-{name}")
        with ui.row().classes("w-full items-center gap-3"):
            self.status = ui.select({"": "Any status", **{s: s.title() for s in DELIVERY_STATUSES}},
                                    value=status, label="Status").props("outlined dense").classes(
                "w-40").mark("filter-status")
            self.channel = ui.select({"": "Any channel", **channels},
                                     value=channel if channel in channels else "", label="Channel")
            self.channel.props("outlined dense").classes("w-48").mark("filter-channel")
            self.customer = ui.input("Customer id", value=customer).props("outlined dense clearable").classes(
                "w-48").mark("filter-customer")
            self.journey = ui.input("Journey id", value=journey).props("outlined dense clearable").classes(
                "w-48").mark("filter-journey")
        for element in (self.status, self.channel, self.customer, self.journey):
            element.on_value_change(lambda _: self.reload(first_page=True))
        self.listing = PagedTable(COLUMNS, self.fetch, row=_row, page_size=PAGE_SIZE,
                                  noun=("delivery", "deliveries"))
        self.listing.total.mark("deliveries-total")
        self.listing.pager.mark("pager")
        table = self.listing.table.props("dense").classes("cursor-pointer").mark("deliveries")
        # A JS object literal in single quotes: the slot template sits inside a double-quoted attribute.
        colours = "{" + ", ".join(f"{name}: '{colour}'" for name, colour in STATUS_COLOURS.items()) + "}"
        table.add_slot("body-cell-status", f"""<q-td :props="props"><q-badge
            :style="{{background: {colours}[props.value]}}" :label="props.value" /></q-td>""")
        for name, (main, secondary) in NAMED_CELLS.items():
            table.add_slot(f"body-cell-{name}", _named_cell(main, secondary))
        table.on("rowClick", lambda event: self.open_detail(event.args[1]["id"]))
        self.engine.live.bus.subscribe(self.on_delta)

    async def reload(self, first_page: bool = False) -> None:
        """The current page and the status tiles, read off the event loop."""
        await self.listing.refresh(first_page)
        counts = await run.io_bound(deliveries.status_counts, self.engine)
        if not self.live.closed():
            self.show_counts(counts)

    def fetch(self, limit: int, offset: int) -> dict[str, Any]:
        """One page of the outbox under the filters (blocking database work)."""
        return list_named_deliveries(
            self.engine, customer_id=self.customer.value or None, channel_id=self.channel.value or None,
            status=self.status.value or None, journey_id=self.journey.value or None,
            limit=limit, offset=offset)

    def show_counts(self, counts: dict[str, int] | None) -> None:
        for name, count in (counts or {}).items():
            self.tiles[name].text = str(count)

    async def on_delta(self, delta: dict[str, Any]) -> None:
        """Deliveries were attempted, or a runner batch may have queued some: one refresh per window."""
        if delta.get("kind") in ("deliveries", "batch"):
            await self.live.trigger()

    async def open_detail(self, delivery_id: str) -> None:
        try:
            item = await run.io_bound(get_named_delivery, self.engine, delivery_id)
        except JourneysError as error:
            notify_problem(error)
            return
        with ui.dialog() as dialog, ui.card().classes("w-[560px] max-w-full").mark("delivery-detail"):
            with ui.row().classes("w-full items-center"):
                ui.label(item["id"]).classes("text-lg font-semibold")
                ui.space()
                ui.badge(item["status"], color=None).style(f"background: {STATUS_COLOURS[item['status']]}")
            customer = item["customerName"] or item["customerId"]
            content = f"offer {item['offerName']}" if item["offerName"] else "a message written in the step"
            ui.label(f"To {customer} via {item['channelName']}: {content}").classes("text-sm").mark(
                "delivery-summary")
            if item["journeyName"]:
                ui.label(f"Journey {item['journeyName']} · step {item['stepName']}").classes("text-sm")
            ui.label(f"{item['customerId']} · {item['channelId']} · {item['offerId'] or 'no offer'} · "
                     f"key {item['idempotencyKey']}").classes("text-xs text-slate-500")
            if item["subject"] is not None or item["body"] is not None:
                ui.label(item["subject"] or "").classes("font-semibold")
                ui.label(item["body"] or "").classes("text-sm whitespace-pre-wrap")
            ui.label(f"Attempts ({item['attempts']})").classes("font-semibold mt-2")
            with ui.column().classes("gap-1").mark("attempt-log"):
                if not item["attemptLog"]:
                    ui.label("None yet.").classes("text-sm text-slate-500")
                for attempt in item["attemptLog"]:
                    with ui.row().classes("items-center gap-2 text-sm"):
                        ui.icon("check_circle" if attempt["ok"] else "error",
                                color="positive" if attempt["ok"] else "negative")
                        outcome = "delivered" if attempt["ok"] else attempt["error"]
                        ui.label(f"{when(attempt['at'])} {outcome}")
            if item["status"] == "queued" and item["nextAttemptAt"]:
                ui.label(f"Next attempt at {when(item['nextAttemptAt'])}").classes("text-sm text-slate-500")
            with ui.row().classes("w-full justify-end"):
                ui.button("Close", on_click=dialog.close).props("flat no-caps")
        dialog.open()
