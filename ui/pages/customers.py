"""Customers: a searchable, paginated list (name, e-mail and the other attributes as chips) with create and
bulk import. The page of one customer is ui/pages/customer_detail.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from nicegui import events, run, ui

from engine.audience import customer_import, customers
from engine.audience.customer_search import display_name
from engine.engine import Engine
from engine.errors import JourneysError
from models.audience import CustomerIn
from ui.components.dialogs import dialog_actions
from ui.components.paged_table import PagedTable, column, notify_problem, when
from ui.dependencies import EngineDep
from ui.layout import frame, guard
from ui.page_load import first_read
from ui.pages.customer_values import EMAIL_KEY, NAME_KEYS, chips

PAGE_SIZE = 25  # customers per page of the list
COLUMNS = [column("id", "Id"), column("name", "Name"), column("email", "E-mail"),
           column("attributes", "Attributes"), column("updated", "Updated")]
# Each of the other attributes as a chip: "key: value", readable at a glance.
CHIPS_CELL = """<q-td :props="props"><div class="row q-gutter-xs">
  <q-chip v-for="chip in props.value" :key="chip" dense outline square color="primary" class="q-ma-none">
    {{ chip }}</q-chip>
</div></q-td>"""


def _row(item: dict[str, Any]) -> dict[str, Any]:
    attributes = item["attributes"] or {}
    email = attributes.get(EMAIL_KEY)
    return {"id": item["id"], "name": display_name(attributes) or "—",
            "email": email if isinstance(email, str) else "—",
            "attributes": chips(attributes, skip=(EMAIL_KEY, *NAME_KEYS)),
            "updated": when(item["updatedAt"], "", seconds=False)}


@ui.page("/customers")
async def customers_page(engine: EngineDep) -> None:
    first = await first_read(customers.list_customers, engine, None, PAGE_SIZE, 0)
    if first is None:  # still loading (the page says so) or the app is stopping
        return
    with frame("Customers"):
        with ui.row().classes("w-full items-center"):
            ui.label("Customers").classes("text-2xl font-semibold grow")
            guard(ui.button("New customer", icon="person_add", on_click=lambda: create_dialog.open())
                  .mark("new-customer"), "editor")
            guard(ui.button("Import", icon="upload_file", on_click=lambda: import_dialog.open())
                  .props("outline").mark("import-customers"), "editor")
        search = ui.input("Search id or attributes", on_change=lambda: listing.refresh(first_page=True)) \
            .props("clearable dense outlined").classes("w-96").mark("customer-search")
        listing = PagedTable(COLUMNS, lambda limit, offset: customers.list_customers(
            engine, search=search.value or None, limit=limit, offset=offset),
            row=_row, page_size=PAGE_SIZE, noun=("customer", "customers"))
        listing.table.add_slot("body-cell-attributes", CHIPS_CELL)
        listing.table.mark("customers-table").on(
            "rowClick", lambda e: ui.navigate.to(f"/customers/{e.args[1]['id']}"))
        listing.total.mark("customer-total")
        create_dialog = _create_dialog(engine, lambda: listing.refresh(first_page=True))
        import_dialog = _import_dialog(engine, lambda: listing.refresh(first_page=True))
        listing.show(first)


def _create_dialog(engine: Engine, saved: Any) -> ui.dialog:
    with ui.dialog() as dialog, ui.card().classes("w-[32rem]"):
        ui.label("New customer").classes("text-lg font-semibold")
        customer_id = ui.input("Id (optional)").classes("w-full").mark("new-customer-id")
        attributes = ui.textarea("Attributes (JSON object)", value="{}").classes("w-full").mark(
            "new-customer-attributes")

        async def create() -> None:
            try:
                values = json.loads(attributes.value or "{}")
                data = CustomerIn(id=customer_id.value or None, attributes=values)
                created = await run.io_bound(customers.create_customer, engine, data)
            except (ValueError, JourneysError) as error:
                notify_problem(error)
                return
            ui.notify(f"Created {created['id']}", type="positive")
            dialog.close()
            await saved()

        dialog_actions(dialog, "Create", create, "create-customer")
    return dialog


def _import_dialog(engine: Engine, imported: Any) -> ui.dialog:
    with ui.dialog() as dialog, ui.card().classes("w-[36rem]"):
        ui.label("Import customers").classes("text-lg font-semibold")
        ui.label('JSON lines ({"id": ..., "attributes": {...}} or flat objects), or CSV with an id column.') \
            .classes("text-sm text-gray-500")
        result = ui.label().classes("text-sm").mark("import-result")

        async def run_import(importing: Callable[..., dict[str, Any]], *args: Any) -> None:
            try:
                outcome = await run.io_bound(importing, *args)
            except JourneysError as error:
                notify_problem(error)
                return
            rejected = outcome["rejected"]
            counts = f"{outcome['created']} created, {outcome['updated']} updated, {len(rejected)} rejected"
            result.text = counts + "".join(f"; line {r['line']}: {r['reason']}" for r in rejected[:5])
            await imported()

        async def uploaded(e: events.UploadEventArguments) -> None:
            fmt = "csv" if e.file.name.lower().endswith(".csv") else "jsonl"
            data = await e.file.read()  # decoded line by line as the API reads a body (a BOM allowed)
            await run_import(customer_import.import_body, engine, [data], fmt)

        limit = engine.settings.max_body_bytes
        # The browser refuses a bigger file before sending it; the server's cap (ui/api/body_limit.py) holds
        # anyway.
        ui.upload(label="CSV or JSONL file", auto_upload=True, on_upload=uploaded, max_file_size=limit,
                  on_rejected=lambda: ui.notify(f"Files up to {limit // 1_048_576} MiB can be imported",
                                                type="warning")).props(
            "accept=.csv,.jsonl,.ndjson,.json").classes("w-full").mark("import-upload")
        pasted = ui.textarea("…or paste lines here").classes("w-full").mark("import-text")
        fmt = ui.toggle({"jsonl": "JSON lines", "csv": "CSV"}, value="jsonl").mark("import-format")
        dialog_actions(dialog, "Import", lambda: run_import(
            customer_import.import_customers, engine, pasted.value or "", fmt.value), "run-import",
            dismiss="Close")
    return dialog
