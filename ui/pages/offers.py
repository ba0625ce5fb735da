"""Offers: a searchable list, and one form (in a dialog) to create or edit an offer with its creatives."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nicegui import run, ui

from engine.audience.attributes import Attribute, customer_attributes
from engine.decisioning import offers
from engine.engine import Engine
from engine.errors import JourneysError
from engine.expressions import Limits
from models.offers import CREATIVE_CHANNELS, OfferFields, OfferIn
from ui.components.condition_builder import ConditionBuilder, offer_attributes
from ui.components.paged_table import PagedTable, column, notify_problem
from ui.dependencies import EngineDep
from ui.layout import frame, guard
from ui.page_load import first_read

PAGE_SIZE = 25  # offers per page of the list
COLUMNS = [column("name", "Name"), column("id", "Id"), column("category", "Category"),
           column("status", "Status"), column("propensity", "Propensity"),
           column("businessValue", "Value", "right"), column("priority", "Priority", "right"),
           column("window", "Runs")]


def _row(offer: dict[str, Any]) -> dict[str, Any]:
    start, end = (offer["startDate"] or "")[:10], (offer["endDate"] or "")[:10]
    return {**offer, "propensity": str(offer["propensity"]),
            "window": f"{start or '…'} – {end or '…'}" if start or end else "always"}


@ui.page("/offers")
async def offers_page(engine: EngineDep) -> None:
    opening = await first_read(_opening, engine)
    if opening is None:  # still loading (the page says so) or the app is stopping
        return
    attributes, first = opening
    with frame("Offers"):
        with ui.row().classes("w-full items-center"):
            ui.label("Offers").classes("text-2xl font-semibold grow")
            guard(ui.button("New offer", icon="add", on_click=lambda: form.open_for(None)).mark("new-offer"),
                  "editor")
        search = ui.input("Search name, id or category", on_change=lambda: listing.refresh(first_page=True)) \
            .props("clearable dense outlined").classes("w-96").mark("offer-search")
        listing = PagedTable(COLUMNS, lambda limit, offset: offers.list_offers(
            engine, search=search.value or None, limit=limit, offset=offset), row=_row, page_size=PAGE_SIZE,
            noun=("offer", "offers"))
        form = OfferForm(engine, listing.refresh, attributes)
        listing.table.mark("offers-table").on("rowClick", lambda e: form.open_id(e.args[1]["id"]))
        listing.show(first)


def _opening(engine: Engine) -> tuple[list[Attribute], dict[str, Any]]:
    """What the offer form may test, and the first page of offers (runs in a worker thread)."""
    return customer_attributes(engine), offers.list_offers(engine, limit=PAGE_SIZE)


class OfferForm:
    """The create/edit dialog; `open_for(None)` starts a new offer."""

    def __init__(self, engine: Engine, saved: Any, attributes: list[Attribute]) -> None:
        self.engine = engine
        self.saved = saved
        self.attributes = [*attributes, *offer_attributes()]
        self.offer_id: str | None = None
        self.eligibility = ""  # CEL; the builder below writes it
        with ui.dialog() as self.dialog, ui.card().classes("w-[44rem]"):
            self.title = ui.label().classes("text-lg font-semibold")
            with ui.row().classes("w-full"):
                self.id = ui.input("Id (optional)").classes("grow").mark("offer-id")
                self.name = ui.input("Name").classes("grow").mark("offer-name")
            self.description = ui.input("Description").classes("w-full")
            with ui.row().classes("w-full"):
                self.category = ui.input("Category").classes("grow").mark("offer-category")
                self.status = ui.select(["active", "inactive"], value="active", label="Status") \
                    .classes("w-40")
            ui.label("Eligibility (no condition: everyone)").classes("text-sm text-gray-500")
            self.eligibility_box = ui.column().classes("w-full").mark("offer-eligibility")
            with ui.row().classes("w-full"):
                self.propensity = ui.input("Propensity (0..1 or CEL)", value="0.5").classes("grow") \
                    .mark("offer-propensity")
                self.value = ui.number("Business value", value=1).classes("w-40")
                self.priority = ui.number("Priority", value=1).classes("w-32")
            with ui.row().classes("w-full"):
                self.start = ui.input("Start (YYYY-MM-DD[THH:MM], UTC)").classes("grow")
                self.end = ui.input("End").classes("grow")
            ui.label("Creatives (Jinja2: customer, offer)").classes("font-semibold")
            self.creatives: dict[str, tuple[ui.input, ui.textarea]] = {}
            with ui.tabs().classes("w-full") as tabs:
                for channel in CREATIVE_CHANNELS:
                    ui.tab(channel)
            with ui.tab_panels(tabs, value=CREATIVE_CHANNELS[0]).classes("w-full"):
                for channel in CREATIVE_CHANNELS:
                    with ui.tab_panel(channel):
                        self.creatives[channel] = (
                            ui.input("Subject").classes("w-full").mark(f"creative-{channel}-subject"),
                            ui.textarea("Body").classes("w-full").mark(f"creative-{channel}-body"))
            with ui.row().classes("w-full justify-end"):
                self.delete_button = guard(
                    ui.button("Delete", color="negative", on_click=self.delete).props("flat"), "admin")
                ui.button("Cancel", on_click=self.dialog.close).props("flat")
                ui.button("Save", on_click=self.save).mark("save-offer")

    async def open_id(self, offer_id: str) -> None:
        """Read the offer off the event loop, then open it."""
        try:
            self.open_for(await run.io_bound(offers.get_offer, self.engine, offer_id))
        except JourneysError as error:
            notify_problem(error)

    def open_for(self, offer: dict[str, Any] | None) -> None:
        offer = offer or {}
        self.offer_id = offer.get("id")
        self.title.text = f"Edit {offer['name']}" if offer else "New offer"
        self.id.value = offer.get("id", "")
        self.id.set_enabled(not offer)
        self.delete_button.set_visibility(bool(offer))
        self.name.value = offer.get("name", "")
        self.description.value = offer.get("description", "")
        self.category.value = offer.get("category", "")
        self.status.value = offer.get("status", "active")
        self.eligibility = offer.get("eligibility") or ""
        self.eligibility_box.clear()
        with self.eligibility_box:
            ConditionBuilder(self.eligibility, self.attributes, self._set_eligibility,
                             limits=Limits.of(self.engine.settings), marker="offer-eligibility")
        self.propensity.value = str(offer.get("propensity", 0.5))
        self.value.value = offer.get("businessValue", 1)
        self.priority.value = offer.get("priority", 1)
        self.start.value = (offer.get("startDate") or "").removesuffix("Z")
        self.end.value = (offer.get("endDate") or "").removesuffix("Z")
        for channel, (subject, body) in self.creatives.items():
            creative = (offer.get("creatives") or {}).get(channel) or {}
            subject.value, body.value = creative.get("subject") or "", creative.get("body") or ""
        self.dialog.open()

    def _set_eligibility(self, text: str) -> None:
        self.eligibility = text

    def fields(self) -> dict[str, Any]:
        propensity_text = (self.propensity.value or "").strip()
        try:
            propensity: float | str | None = float(propensity_text) if propensity_text else None
        except ValueError:
            propensity = propensity_text
        creatives = {channel: {"subject": subject.value or None, "body": body.value or None}
                     for channel, (subject, body) in self.creatives.items() if subject.value or body.value}
        return {"name": self.name.value, "description": self.description.value or "",
                "category": self.category.value or "", "status": self.status.value,
                "eligibility": self.eligibility.strip() or None, "propensity": propensity,
                "business_value": self.value.value, "priority": self.priority.value,
                "start_date": _moment(self.start.value), "end_date": _moment(self.end.value),
                "creatives": creatives}

    async def save(self) -> None:
        try:
            if self.offer_id:
                result = await run.io_bound(
                    offers.update_offer, self.engine, self.offer_id, OfferFields(**self.fields()))
            else:
                data = OfferIn(id=self.id.value or None, **self.fields())
                result = await run.io_bound(offers.create_offer, self.engine, data)
        except (ValueError, JourneysError) as error:
            notify_problem(error)
            return
        ui.notify(f"Saved {result['name']}", type="positive")
        self.dialog.close()
        await self.saved()

    async def delete(self) -> None:
        try:
            await run.io_bound(offers.delete_offer, self.engine, self.offer_id or "")
        except JourneysError as error:
            notify_problem(error)
            return
        self.dialog.close()
        await self.saved()


def _moment(text: str | None) -> datetime | None:
    """A typed date or date-time; blank is none. A bad one raises ValueError (shown to the user)."""
    text = (text or "").strip()
    return datetime.fromisoformat(text.removesuffix("Z")) if text else None
