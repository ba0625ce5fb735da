"""One customer (/customers/{id}): attributes as a readable table, segments and flags, "Add to journey", and
what happened to them (ui/pages/customer_activity.py): journeys, inbox, deliveries and a timeline."""

from __future__ import annotations

import json
from typing import Any

from nicegui import run, ui

from engine.audience import customers, segments
from engine.audience.customer_search import display_name
from engine.engine import Engine
from engine.errors import JourneysError, NotFound
from engine.journeys import lifecycle
from engine.runtime import bulk_entry
from models.audience import CustomerUpdate
from ui.components.detail_header import breadcrumb
from ui.components.dialogs import dialog_actions
from ui.components.enroll_dialog import role_refusal, skip_reason
from ui.components.paged_table import column, notify_problem, problem
from ui.dependencies import EngineDep
from ui.layout import frame, guard
from ui.page_load import first_read
from ui.pages.customer_activity import CustomerActivity
from ui.pages.customer_values import display_value, kind_of


@ui.page("/customers/{customer_id}")
async def customer_page(engine: EngineDep, customer_id: str) -> None:
    try:
        loaded = await first_read(_customer_and_segments, engine, customer_id)
    except NotFound as error:
        with frame("Customer"):
            ui.label(error.message).classes("text-lg text-red-600").mark("not-found")
            ui.link("All customers", "/customers")
        return
    if loaded is None:  # still loading (the page says so) or the app is stopping
        return
    customer, member_of = loaded
    with frame("Customer"):
        name = display_name(customer["attributes"])
        activity: CustomerActivity | None = None

        async def enrolled() -> None:
            if activity is not None:
                await activity.refresh()

        with breadcrumb("Customers", "/customers", name or customer_id, marker="customer-id"):
            if name:
                ui.label(customer_id).classes("text-sm text-slate-500").mark("customer-id-secondary")
            _add_to_journey_action(engine, customer_id, enrolled)
            guard(ui.button("Edit", icon="edit", on_click=lambda: edit_dialog.open())
                  .props("outline no-caps").mark("edit-customer"), "editor")
            guard(ui.button("Delete", icon="delete", color="negative", on_click=lambda: confirm.open())
                  .props("outline no-caps"), "admin")
        with ui.row().classes("w-full gap-4 items-start no-wrap"):
            with ui.card().classes("grow min-w-0"):
                ui.label("Attributes").classes("font-semibold")
                _attributes_table(customer["attributes"])
            with ui.column().classes("w-80 shrink-0 gap-4"):
                _segments_card(member_of)
                _flags_card(customer["flags"])
        activity = CustomerActivity(engine, customer_id)
        await activity.refresh()
        edit_dialog = _edit_dialog(engine, customer)
        with ui.dialog() as confirm, ui.card():
            ui.label(f"Delete customer {customer_id}? They leave every segment.")

            async def remove() -> None:
                try:  # deleting ends the customer's enrollments: off the event loop
                    await run.io_bound(customers.delete_customer, engine, customer_id)
                except JourneysError as error:
                    notify_problem(error)
                    return
                ui.navigate.to("/customers")

            dialog_actions(confirm, "Delete", remove, "confirm-delete", colour="negative")


def _customer_and_segments(engine: Engine, customer_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The customer and the segments they are in (runs in a worker thread)."""
    return customers.get_customer(engine, customer_id), segments.customer_segments(engine, customer_id)


def _attributes_table(attributes: dict[str, Any]) -> None:
    if not attributes:
        ui.label("No attributes yet.").classes("text-sm text-slate-500").mark("attributes-empty")
        return
    rows = [{"key": key, "value": display_value(value), "kind": kind_of(value)}
            for key, value in sorted(attributes.items())]
    table = ui.table(columns=[column("key", "Attribute"), column("value", "Value"), column("kind", "Kind")],
                     rows=rows, row_key="key").props("flat dense hide-bottom").classes("w-full")
    table.props(":pagination=\"{rowsPerPage: 0}\"")
    table.add_slot("body-cell-value", """<q-td :props="props" class="whitespace-normal break-words"
        style="max-width: 36rem">{{ props.value }}</q-td>""")
    table.add_slot("body-cell-kind", """<q-td :props="props" class="text-grey-6 text-xs">{{ props.value }}
        </q-td>""")
    table.mark("attributes-table")


def _segments_card(member_of: list[dict[str, Any]]) -> None:
    with ui.card().classes("w-full"):
        ui.label("Segments").classes("font-semibold")
        with ui.row().classes("gap-1").mark("customer-segments"):
            for segment in member_of:
                with ui.link(target=f"/segments/{segment['id']}").classes("no-underline"):
                    ui.chip(segment["name"], icon="groups").props("dense outline clickable")
        if not member_of:
            ui.label("In no segment yet.").classes("text-sm text-slate-500")


def _flags_card(flags: dict[str, Any]) -> None:
    with ui.card().classes("w-full"):
        ui.label("Flags").classes("font-semibold")
        with ui.column().classes("gap-0").mark("customer-flags"):
            for key, value in sorted(flags.items()):
                ui.label(f"{key}: {display_value(value)}").classes("text-sm")
        if not flags:
            ui.label("No flags yet.").classes("text-sm text-slate-500")


def _add_to_journey_action(engine: Engine, customer_id: str, enrolled: Any) -> None:
    """The "Add to journey" button (disabled, saying why, for a role that may not) and its dialog."""
    with ui.dialog() as dialog, ui.card().classes("w-[28rem] gap-3").props("data-add-dialog"):
        ui.label("Add to a journey").classes("text-lg font-semibold")
        journey = ui.select({}, label="Active journey", with_input=True).props(
            "dense outlined data-add-journey").classes("w-full").mark("add-journey")
        note = ui.label().classes("text-sm text-slate-500").mark("add-note")
        outcome = ui.label().classes("text-sm").props("data-add-outcome").mark("add-outcome")

        async def add() -> None:
            if not journey.value:
                outcome.text = "Pick a journey first."
                outcome.classes(replace="text-sm text-negative")
                return
            try:
                answer = await run.io_bound(bulk_entry.enroll_customers, engine, journey.value, [customer_id])
            except JourneysError as error:
                outcome.text = problem(error)
                outcome.classes(replace="text-sm text-negative")
                return
            if answer is None:  # the app is stopping
                return
            if answer["enrolled"]:
                outcome.text = f"Added to {answer['journeyName']}."
                outcome.classes(replace="text-sm text-positive font-semibold")
                await enrolled()
            else:
                reason = skip_reason(answer["skippedCustomers"][0]["reason"])
                outcome.text = f"Not added to {answer['journeyName']}: {reason}."
                outcome.classes(replace="text-sm text-warning")

        submit = dialog_actions(dialog, "Add", add, "add-submit", dismiss="Close", icon="group_add")
        submit.props("data-add-submit")

    async def open_dialog() -> None:
        outcome.text = ""
        dialog.open()
        page = await run.io_bound(lifecycle.list_journeys, engine, "active", 200)
        if page is None:  # the app is stopping
            return
        journey.options = {item["id"]: item["name"] for item in page["data"]}
        journey.update()
        note.text = "" if page["data"] else "No active journey yet: activate one to add customers to it."
        submit.set_enabled(bool(page["data"]))

    with ui.element("div").classes("inline-block"):
        button = ui.button("Add to journey", icon="group_add", on_click=open_dialog).props(
            "unelevated no-caps data-add-to-journey").mark("add-to-journey")
        refusal = role_refusal()
        if refusal:
            button.disable()
            ui.tooltip(refusal).mark("add-to-journey-tooltip")


def _edit_dialog(engine: Engine, customer: dict[str, Any]) -> ui.dialog:
    with ui.dialog() as dialog, ui.card().classes("w-[36rem]"):
        ui.label("Edit attributes and flags").classes("text-lg font-semibold")
        attributes = ui.textarea("Attributes (JSON)", value=json.dumps(customer["attributes"], indent=2)) \
            .classes("w-full").props("autogrow").mark("edit-attributes")
        flags = ui.textarea("Flags (JSON)", value=json.dumps(customer["flags"], indent=2)).classes("w-full") \
            .mark("edit-flags")

        async def save() -> None:
            try:
                new_attributes = json.loads(attributes.value or "{}")
                new_flags = json.loads(flags.value or "{}")
                # The API merges; keys deleted in the editor are sent as null so they are removed.
                data = CustomerUpdate(
                    attributes={**dict.fromkeys(customer["attributes"]), **new_attributes},
                    flags={**dict.fromkeys(customer["flags"]), **new_flags})
                await run.io_bound(customers.update_customer, engine, customer["id"], data)
            except (ValueError, TypeError, JourneysError) as error:
                notify_problem(error)
                return
            ui.navigate.reload()

        dialog_actions(dialog, "Save", save, "save-customer")
    return dialog
