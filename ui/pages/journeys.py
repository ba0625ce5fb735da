"""The journeys list: the home page."""

from __future__ import annotations

from nicegui import ui

from engine import journeys
from ui.layout import frame


@ui.page("/")
@ui.page("/journeys")
def journeys_page() -> None:
    with frame("Journeys"):
        ui.label("Journeys").classes("text-2xl font-semibold")
        page = journeys.list_journeys(limit=200)
        rows = [
            {"id": j.id, "name": j.name, "status": j.status, "version": j.version, "updated": j.updated_at}
            for j in page.data
        ]
        columns = [
            {"name": "name", "label": "Name", "field": "name", "sortable": True, "align": "left"},
            {"name": "status", "label": "Status", "field": "status", "sortable": True},
            {"name": "version", "label": "Version", "field": "version"},
            {"name": "updated", "label": "Updated", "field": "updated", "sortable": True},
        ]
        ui.table(columns=columns, rows=rows, row_key="id").classes("w-full").mark("journeys-table")
