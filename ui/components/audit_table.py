"""The audit log as a paged table: when, who, what they did, to what, and the gist of the details. Used by
the audit page (everything) and the journey pages (that journey's own history)."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from engine.access import audit
from engine.engine import Engine
from ui.components.paged_table import Fetch, PagedTable, column, when

COLUMNS = [
    column("at", "When"),
    column("actor", "Who"),
    column("action", "Did"),
    column("entity", "To what"),
    column("details", "Details"),
]


def gist(details: dict[str, Any]) -> str:
    """An entry's details in a few words: the status move, the fields changed, the version."""
    parts = []
    if "from" in details:
        parts.append(f"{details['from']} → {details['to']}")
    if details.get("fields"):
        parts.append("changed " + ", ".join(details["fields"]))
    if "version" in details:
        parts.append(f"version {details['version']}")
    return "; ".join(parts)


def _row(item: dict[str, Any]) -> dict[str, Any]:
    kind = item["entityType"].replace("_", " ")
    return {
        "id": item["id"],
        "at": when(item["at"]),
        "actor": f"{item['actor']} ({item['role']})",
        "action": item["action"],
        "entity": f"{kind} {item['entityName']} ({item['entityId']})",
        "details": gist(item["details"]),
    }


def audit_table(fetch: Fetch, page_size: int = 20) -> PagedTable:
    """A table of audit entries read with `fetch(limit, offset)`; call `refresh()` to fill it."""
    table = PagedTable(COLUMNS, fetch, row=_row, page_size=page_size, noun=("change", "changes"))
    table.table.props("dense")
    return table


async def journey_history(engine: Engine, journey_id: str) -> PagedTable:
    """A card with the journey's own changes (created, changed, activated, paused, archived), newest first."""
    with ui.card().classes("w-full"):
        ui.label("Changes to this journey").classes("text-lg font-semibold")
        table = audit_table(
            lambda limit, offset: audit.list_entries(engine, limit, offset, "journey", journey_id),
            page_size=10)
        table.table.mark("journey-history")
    await table.refresh()
    return table
