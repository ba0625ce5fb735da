"""What happened to one customer, on their page: the journeys they are or were in (linking to each journey's
monitor), their in-app inbox, the deliveries sent to them and a timeline of events and journey steps.
Every list reads one page at a time off the event loop and says "No … yet" when there is nothing."""

from __future__ import annotations

from typing import Any

from nicegui import run, ui

from engine.delivery import deliveries
from engine.engine import Engine
from engine.monitoring import customer_profile
from engine.references import References, catalog
from ui.components.paged_table import PagedTable, column, when
from ui.components.step_words import describe
from ui.layout import STEP_STYLE
from ui.pages.customer_values import display_value

INBOX_LIMIT = 20
TIMELINE_STEP = 50
STATUS_BADGE = """<q-td :props="props"><q-badge :color="{active: 'primary', completed: 'positive',
  exited: 'grey-7', failed: 'negative', queued: 'grey-6', sending: 'primary', sent: 'positive'}[props.value]
  || 'grey-6'">{{ props.value }}</q-badge></q-td>"""
JOURNEY_LINK = """<q-td :props="props"><a :href="'/journeys/' + props.row.journeyId + '/monitor'"
  class="text-primary" style="text-decoration: none">{{ props.value }}</a>
  <q-badge v-if="props.row.journeyStatus && props.row.journeyStatus !== 'active'" outline color="grey-7"
  class="q-ml-xs">{{ props.row.journeyStatus }}</q-badge></q-td>"""
DETAIL_KEYS = 6  # detail lines shown per timeline entry


class CustomerActivity:
    """The four activity sections; `refresh` re-reads them all (after "Add to journey", say)."""

    def __init__(self, engine: Engine, customer_id: str) -> None:
        self.engine = engine
        self.customer_id = customer_id
        self.timeline_limit = TIMELINE_STEP
        self.refs: References | None = None
        with ui.card().classes("w-full"):
            ui.label("Journeys").classes("font-semibold")
            columns = [column("journey", "Journey"), column("status", "Status"),
                       column("step", "Current step"), column("enteredAt", "Entered"),
                       column("ended", "Ended"), column("reason", "Exit reason")]
            self.journeys = PagedTable(columns, self._journeys, row=_journey_row, page_size=10,
                                       noun=("journey", "journeys"))
            self.journeys.table.props("dense data-customer-journeys").mark("customer-journeys")
            self.journeys.table.add_slot("body-cell-journey", JOURNEY_LINK)
            self.journeys.table.add_slot("body-cell-status", STATUS_BADGE)
        with ui.grid(columns=2).classes("w-full gap-4"):
            with ui.card().classes("w-full"):
                ui.label("Timeline").classes("font-semibold")
                self.timeline = ui.column().classes("w-full gap-0").mark("customer-timeline")
            with ui.card().classes("w-full"):
                ui.label("Inbox").classes("font-semibold")
                self.inbox = ui.column().classes("w-full gap-2").mark("customer-inbox")
        with ui.card().classes("w-full"):
            ui.label("Deliveries").classes("font-semibold")
            columns = [column("channel", "Channel"), column("message", "Offer or message"),
                       column("journey", "Journey · step"), column("status", "Status"), column("at", "Time")]
            self.deliveries = PagedTable(columns, self._deliveries, row=_delivery_row, page_size=10,
                                         noun=("delivery", "deliveries"))
            self.deliveries.table.props("dense").mark("customer-deliveries")
            self.deliveries.table.add_slot("body-cell-status", STATUS_BADGE)

    async def refresh(self) -> None:
        await self.journeys.refresh()  # an empty table says "No journeys yet." (PagedTable)
        await self.deliveries.refresh()
        await self._show_inbox()
        await self._show_timeline()

    def _journeys(self, limit: int, offset: int) -> dict[str, Any]:
        return customer_profile.customer_journeys(self.engine, self.customer_id, limit, offset)

    def _deliveries(self, limit: int, offset: int) -> dict[str, Any]:
        return customer_profile.customer_deliveries(self.engine, self.customer_id, limit, offset)

    async def _show_inbox(self) -> None:
        page = await run.io_bound(deliveries.inbox, self.engine, self.customer_id, INBOX_LIMIT)
        if page is None or self.inbox.is_deleted:
            return
        self.inbox.clear()
        with self.inbox:
            if not page["data"]:
                _empty("No in-app messages yet.", "inbox-empty")
            for message in page["data"]:
                _message(message)
            total = page["pagination"]["total"]
            if total > len(page["data"]):
                ui.label(f"The newest {len(page['data'])} of {total:,} messages.").classes(
                    "text-xs text-slate-500")

    async def _show_timeline(self) -> None:
        loaded = await run.io_bound(self._timeline_page)
        if loaded is None or self.timeline.is_deleted:
            return
        page, refs = loaded
        self.timeline.clear()
        with self.timeline:
            if not page["data"]:
                _empty("Nothing has happened yet.", "timeline-empty")
                return
            with ui.timeline(side="right", layout="dense").classes("w-full"):
                for item in page["data"]:
                    _timeline_entry(item, refs)
            if page["hasMore"]:
                ui.button("Show older", icon="expand_more", on_click=self._older).props(
                    "flat dense no-caps").mark("timeline-older")

    def _timeline_page(self) -> tuple[dict[str, Any], References]:
        """The newest timeline entries, and the catalogue's names the steps are told in (read once a page)."""
        if self.refs is None:
            self.refs = catalog(self.engine)
        timeline = customer_profile.customer_timeline(self.engine, self.customer_id, self.timeline_limit)
        return timeline, self.refs

    async def _older(self) -> None:
        self.timeline_limit += TIMELINE_STEP
        await self._show_timeline()


def _empty(text: str, marker: str) -> ui.label:
    return ui.label(text).classes("text-sm text-slate-500").mark(marker)


def _journey_row(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item["id"], "journeyId": item["journeyId"], "journey": item["journeyName"],
        "journeyStatus": item["journeyStatus"], "status": item["status"],
        "step": item["stepName"] if item["status"] == "active" else "—",
        "enteredAt": when(item["enteredAt"]), "ended": when(item["endedAt"]),
        "reason": item["error"] or (item["exitReason"] or "").replace("_", " ") or "—",
    }


def _delivery_row(item: dict[str, Any]) -> dict[str, Any]:
    journey = " · ".join(part for part in (item["journeyName"], item["stepName"]) if part) or "—"
    return {"id": item["id"], "channel": item["channelName"], "message": item["offerName"] or "message",
            "journey": journey, "status": item["status"], "at": when(item["sentAt"] or item["createdAt"])}


def _message(message: dict[str, Any]) -> None:
    with ui.card().props("flat bordered").classes("w-full p-2 gap-1").mark("inbox-message"):
        with ui.row().classes("w-full items-center gap-2 no-wrap"):
            ui.label(message["subject"] or "(no subject)").classes("font-medium grow")
            if message["readAt"]:
                ui.badge(f"read {when(message['readAt'], seconds=False)}", color="grey-6").props("outline")
            else:
                ui.badge("unread", color="primary")
        # Plain text, as written: the body is never interpreted as HTML.
        ui.label(message["body"]).classes("text-sm whitespace-pre-wrap break-words")
        ui.label(when(message["createdAt"])).classes("text-xs text-slate-500")


def _timeline_entry(item: dict[str, Any], refs: References) -> None:
    """One thing that happened: a title in names, a step told in words (as the test run and the monitor
    tell it), and its details below."""
    colour, sentence = "", ""
    if item["kind"] == "event":
        icon, title, details = "bolt", f"Event: {item['eventType']}", item["properties"]
    elif item["kind"] == "entered":
        icon, title = "login", f"Entered {item['journeyName']}"
        details = {"now at": item["stepName"]} if item["stepName"] else {}
    else:
        icon, colour = STEP_STYLE.get(item["stepType"], ("history", "#64748b"))
        outcome = item["outcome"].replace("_", " ")
        title = f"{item['journeyName']} · {item['stepName'] or 'journey'}: {outcome}"
        if item["nextStepName"]:
            title += f" → {item['nextStepName']}"
        details = item["detail"]
        sentence = describe({"type": item["stepType"], "outcome": item["outcome"], "detail": details,
                             "name": item["stepName"] or "journey", "stepId": ""}, refs)
    entry = ui.timeline_entry(subtitle=when(item["at"]), icon=icon).mark("timeline-entry")
    with entry, ui.column().classes("gap-0"):
        ui.label(title).classes("font-medium").style(f"color: {colour}" if colour else "")
        if sentence:
            ui.label(sentence).classes("text-sm").mark("timeline-sentence")
        _details(details)


def _details(values: dict[str, Any]) -> None:
    # Ids (channelId, deliveryId …) are for machines: the entry's title already names the step.
    shown = [(key, value) for key, value in values.items() if not key.endswith("Id")]
    for key, value in shown[:DETAIL_KEYS]:
        text = display_value(value)
        ui.label(f"{key}: {text if len(text) <= 200 else text[:199] + '…'}").classes(
            "text-xs text-slate-500 break-all")
