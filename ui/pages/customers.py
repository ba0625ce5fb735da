"""Customers: a searchable, paginated list with create and bulk import, and a detail page per customer."""

from __future__ import annotations

import json
from typing import Any

from nicegui import events, run, ui

from engine.audience import customers, segments
from engine.audience import events as event_log
from engine.errors import JourneysError
from models.audience import CustomerIn, CustomerUpdate
from ui.components.detail_header import breadcrumb, load_or_explain
from ui.components.dialogs import dialog_actions
from ui.components.paged_table import PagedTable, column, notify_problem, when
from ui.layout import frame, guard

COLUMNS = [column("id", "Id"), column("name", "Name"),
           column("attributes", "Attributes", classes="ellipsis", style="max-width: 520px"),
           column("updated", "Updated")]


def _row(item: dict[str, Any]) -> dict[str, Any]:
    attributes = item["attributes"] or {}
    summary = ", ".join(f"{key}={value}" for key, value in list(attributes.items())[:8])
    return {"id": item["id"], "name": attributes.get("name", ""), "attributes": summary,
            "updated": when(item["updatedAt"], "", seconds=False)}


@ui.page("/customers")
async def customers_page() -> None:
    with frame("Customers"):
        with ui.row().classes("w-full items-center"):
            ui.label("Customers").classes("text-2xl font-semibold grow")
            guard(ui.button("New customer", icon="person_add", on_click=lambda: create_dialog.open())
                  .mark("new-customer"), "editor")
            guard(ui.button("Import", icon="upload_file", on_click=lambda: import_dialog.open())
                  .props("outline"), "editor")
        search = ui.input("Search id or attributes", on_change=lambda: listing.refresh(first_page=True)) \
            .props("clearable dense outlined").classes("w-96").mark("customer-search")
        listing = PagedTable(COLUMNS, lambda limit, offset: customers.list_customers(
            search=search.value or None, limit=limit, offset=offset),
            row=_row, noun=("customer", "customers"))
        listing.table.mark("customers-table").on(
            "rowClick", lambda e: ui.navigate.to(f"/customers/{e.args[1]['id']}"))
        listing.total.mark("customer-total")
        create_dialog = _create_dialog(lambda: listing.refresh(first_page=True))
        import_dialog = _import_dialog(lambda: listing.refresh(first_page=True))
        await listing.refresh()


def _create_dialog(saved: Any) -> ui.dialog:
    with ui.dialog() as dialog, ui.card().classes("w-[32rem]"):
        ui.label("New customer").classes("text-lg font-semibold")
        customer_id = ui.input("Id (optional)").classes("w-full").mark("new-customer-id")
        attributes = ui.textarea("Attributes (JSON object)", value="{}").classes("w-full").mark(
            "new-customer-attributes")

        async def create() -> None:
            try:
                values = json.loads(attributes.value or "{}")
                data = CustomerIn(id=customer_id.value or None, attributes=values)
                created = await run.io_bound(customers.create_customer, data)
            except (ValueError, JourneysError) as error:
                notify_problem(error)
                return
            ui.notify(f"Created {created['id']}", type="positive")
            dialog.close()
            await saved()

        dialog_actions(dialog, "Create", create, "create-customer")
    return dialog


def _import_dialog(imported: Any) -> ui.dialog:
    with ui.dialog() as dialog, ui.card().classes("w-[36rem]"):
        ui.label("Import customers").classes("text-lg font-semibold")
        ui.label('JSON lines ({"id": ..., "attributes": {...}} or flat objects), or CSV with an id column.') \
            .classes("text-sm text-gray-500")
        result = ui.label().classes("text-sm").mark("import-result")

        async def run_import(text: str, fmt: str) -> None:
            try:
                outcome = await run.io_bound(customers.import_customers, text, fmt)
            except JourneysError as error:
                notify_problem(error)
                return
            rejected = outcome["rejected"]
            counts = f"{outcome['created']} created, {outcome['updated']} updated, {len(rejected)} rejected"
            result.text = counts + "".join(f"; line {r['line']}: {r['reason']}" for r in rejected[:5])
            await imported()

        async def uploaded(e: events.UploadEventArguments) -> None:
            name = e.file.name.lower()
            await run_import(await e.file.text(), "csv" if name.endswith(".csv") else "jsonl")

        ui.upload(label="CSV or JSONL file", auto_upload=True, on_upload=uploaded).props(
            "accept=.csv,.jsonl,.ndjson,.json").classes("w-full")
        pasted = ui.textarea("…or paste lines here").classes("w-full").mark("import-text")
        fmt = ui.toggle({"jsonl": "JSON lines", "csv": "CSV"}, value="jsonl").mark("import-format")
        dialog_actions(dialog, "Import", lambda: run_import(pasted.value or "", fmt.value), "run-import",
                       dismiss="Close")
    return dialog


@ui.page("/customers/{customer_id}")
async def customer_page(customer_id: str) -> None:
    with frame("Customer"):
        customer = load_or_explain(lambda: customers.get_customer(customer_id), "All customers", "/customers")
        if customer is None:
            return
        member_of, recent = await run.io_bound(_segments_and_events, customer_id)
        with breadcrumb("Customers", "/customers", customer_id, marker="customer-id"):
            ui.button("Edit", icon="edit", on_click=lambda: edit_dialog.open()).mark("edit-customer")
            guard(ui.button("Delete", icon="delete", color="negative", on_click=lambda: confirm.open())
                  .props("outline"), "admin")
        with ui.row().classes("w-full gap-4 items-start"):
            with ui.card().classes("grow"):
                ui.label("Attributes").classes("font-semibold")
                rows = [{"key": k, "value": json.dumps(v)} for k, v in sorted(customer["attributes"].items())]
                ui.table(columns=[column("key", "Attribute"), column("value", "Value")], rows=rows,
                         row_key="key").props("flat dense").classes("w-full").mark("attributes-table")
                if customer["flags"]:
                    ui.label("Flags: " + ", ".join(f"{k}={v}" for k, v in customer["flags"].items())) \
                        .classes("text-sm").mark("customer-flags")
            with ui.card().classes("w-80"):
                ui.label("Segments").classes("font-semibold")
                with ui.row().classes("gap-1").mark("customer-segments"):
                    for segment in member_of:
                        ui.chip(segment["name"], icon="groups").props("dense outline")
                if not member_of:
                    ui.label("In no segment").classes("text-sm text-gray-500")
        with ui.card().classes("w-full"):
            ui.label("Recent events").classes("font-semibold")
            ui.table(columns=[column("type", "Type"), column("at", "Occurred"),
                              column("properties", "Properties")],
                     rows=[{"id": e["id"], "type": e["type"], "at": when(e["occurredAt"]),
                            "properties": json.dumps(e["properties"])} for e in recent],
                     row_key="id").props("flat dense").classes("w-full").mark("events-table")
        edit_dialog = _edit_dialog(customer)
        with ui.dialog() as confirm, ui.card():
            ui.label(f"Delete customer {customer_id}? They leave every segment.")

            async def remove() -> None:
                try:  # deleting ends the customer's enrollments: off the event loop
                    await run.io_bound(customers.delete_customer, customer_id)
                except JourneysError as error:
                    notify_problem(error)
                    return
                ui.navigate.to("/customers")

            dialog_actions(confirm, "Delete", remove, "confirm-delete", colour="negative")


def _segments_and_events(customer_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The customer's segments and latest events (runs in a worker thread)."""
    return segments.customer_segments(customer_id), event_log.list_events(customer_id=customer_id,
                                                                           limit=20)["data"]


def _edit_dialog(customer: dict[str, Any]) -> ui.dialog:
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
                await run.io_bound(customers.update_customer, customer["id"], data)
            except (ValueError, TypeError, JourneysError) as error:
                notify_problem(error)
                return
            ui.navigate.reload()

        dialog_actions(dialog, "Save", save, "save-customer")
    return dialog
