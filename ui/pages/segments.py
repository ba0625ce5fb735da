"""Segments: list with member counts, create (rule or static), and a detail page with members and changes."""

from __future__ import annotations

from typing import Any

from nicegui import run, ui

from engine.audience import segments
from engine.engine import Engine
from engine.errors import JourneysError
from models.audience import SegmentIn, SegmentUpdate
from ui.components.detail_header import breadcrumb
from ui.components.dialogs import dialog_actions
from ui.components.paged_table import PagedTable, column, notify_problem, when
from ui.dependencies import EngineDep
from ui.layout import frame, guard
from ui.page_load import first_read, first_read_of_item

COLUMNS = [column("name", "Name"), column("id", "Id"), column("kind", "Type"),
           column("rule", "Rule", classes="ellipsis", style="max-width: 420px"),
           column("members", "Members", "right")]
PAGE_SIZE = 25  # segments per page of the list
CHANGES_SHOWN = 20  # latest joins and leaves on a segment's page


def _row(segment: dict[str, Any]) -> dict[str, Any]:
    return {"id": segment["id"], "name": segment["name"], "kind": "static" if segment["static"] else "rule",
            "rule": segment["rule"] or "", "members": segment["memberCount"]}


@ui.page("/segments")
async def segments_page(engine: EngineDep) -> None:
    first = await first_read(segments.list_segments, engine, None, PAGE_SIZE, 0)
    if first is None:  # still loading (the page says so) or the app is stopping
        return
    with frame("Segments"):
        with ui.row().classes("w-full items-center"):
            ui.label("Segments").classes("text-2xl font-semibold grow")
            guard(ui.button("New segment", icon="group_add", on_click=lambda: dialog.open())
                  .mark("new-segment"), "editor")
        search = ui.input("Search", on_change=lambda: listing.refresh(first_page=True)) \
            .props("clearable dense outlined").classes("w-96").mark("segment-search")
        listing = PagedTable(COLUMNS, lambda limit, offset: segments.list_segments(
            engine, search=search.value or None, limit=limit, offset=offset), row=_row, page_size=PAGE_SIZE,
            noun=("segment", "segments"))
        listing.table.mark("segments-table").on(
            "rowClick", lambda e: ui.navigate.to(f"/segments/{e.args[1]['id']}"))
        dialog = _create_dialog(engine, lambda: listing.refresh(first_page=True))
        listing.show(first)


def _create_dialog(engine: Engine, created: Any) -> ui.dialog:
    with ui.dialog() as dialog, ui.card().classes("w-[34rem]"):
        ui.label("New segment").classes("text-lg font-semibold")
        name = ui.input("Name").classes("w-full").mark("segment-name")
        segment_id = ui.input("Id (optional)").classes("w-full").mark("segment-id")
        kind = ui.toggle({"rule": "Rule (CEL)", "static": "Static"}, value="rule").mark("segment-kind")
        rule = ui.input("Rule, e.g. customer.tier == 'gold'").classes("w-full font-mono").mark("segment-rule")
        rule.bind_visibility_from(kind, "value", value="rule")

        async def create() -> None:
            static = kind.value == "static"
            try:
                data = SegmentIn(id=segment_id.value or None, name=name.value, static=static,
                                 rule=None if static else rule.value)
                # A rule segment is evaluated over every customer at once: off the event loop.
                result = await run.io_bound(segments.create_segment, engine, data)
            except (ValueError, JourneysError) as error:
                notify_problem(error)
                return
            ui.notify(f"Created {result['name']} with {result['memberCount']} members", type="positive")
            dialog.close()
            await created()

        dialog_actions(dialog, "Create", create, "create-segment")
    return dialog


@ui.page("/segments/{segment_id}")
async def segment_page(engine: EngineDep, segment_id: str) -> None:
    back = ("All segments", "/segments")
    loaded = await first_read_of_item("Segment", back, _segment_and_changes, engine, segment_id)
    if loaded is None:  # unknown, still loading (the page says so) or the app is stopping
        return
    segment, recent = loaded
    with frame("Segment"):
        with breadcrumb("Segments", "/segments", segment["name"]):
            guard(ui.button("Delete", icon="delete", color="negative", on_click=lambda: confirm.open())
                  .props("outline"), "admin")
        with ui.row().classes("w-full gap-4 no-wrap"):
            with ui.card().classes("items-center px-8"):
                count = ui.label(str(segment["memberCount"])).classes("text-3xl font-bold") \
                    .mark("member-count")
                ui.label("members").classes("text-sm text-gray-500")
            with ui.card().classes("grow"):
                if segment["static"]:
                    _static_editor(engine, segment_id, lambda: refresh())
                else:
                    _rule_editor(engine, segment, lambda: refresh())
        with ui.row().classes("w-full gap-4 items-start"):
            with ui.column().classes("grow gap-1"):
                members = PagedTable(
                    [column("customerId", "Customer"), column("joinedAt", "Joined")],
                    lambda limit, offset: segments.list_members(
                        engine, segment_id, limit=limit, offset=offset),
                    row=lambda item: {**item, "joinedAt": when(item["joinedAt"])},
                    row_key="customerId", page_size=20, noun=("member", "members"))
                members.table.mark("members-table").on(
                    "rowClick", lambda e: ui.navigate.to(f"/customers/{e.args[1]['customerId']}"))
            with ui.column().classes("w-96 gap-1"):
                ui.label("Recent joins and leaves").classes("font-semibold")
                changes = ui.table(columns=[column("customerId", "Customer"), column("change", "Change"),
                                            column("at", "At")], rows=_change_rows(recent), row_key="key") \
                    .props("flat bordered dense").classes("w-full").mark("changes-table")

        async def refresh() -> None:
            await members.refresh()
            read = await run.io_bound(_counts_and_changes, engine, segment_id)
            if read is None or count.is_deleted:  # None: the app is shutting down
                return
            count.text = str(read[0])
            changes.rows = _change_rows(read[1])

        with ui.dialog() as confirm, ui.card():
            ui.label(f"Delete segment {segment['name']}? (Not while a journey still uses it.)")

            async def remove() -> None:
                try:
                    await run.io_bound(segments.delete_segment, engine, segment_id)
                except JourneysError as error:  # a journey still uses it
                    notify_problem(error)
                    return
                ui.navigate.to("/segments")

            dialog_actions(confirm, "Delete", remove, "confirm-delete", colour="negative")
        await members.refresh()


def _segment_and_changes(engine: Engine, segment_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The segment (with its member count) and its latest joins and leaves (runs in a worker thread)."""
    return segments.get_segment(engine, segment_id), _changes(engine, segment_id)


def _counts_and_changes(engine: Engine, segment_id: str) -> tuple[int, list[dict[str, Any]]]:
    """The member count and the latest joins and leaves (runs in a worker thread)."""
    return segments.member_count(engine, segment_id), _changes(engine, segment_id)


def _changes(engine: Engine, segment_id: str) -> list[dict[str, Any]]:
    return segments.list_changes(engine, segment_id, limit=CHANGES_SHOWN)["data"]


def _change_rows(recent: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"key": f"{n}", "customerId": c["customerId"], "change": "joined" if c["joined"] else "left",
             "at": when(c["at"])} for n, c in enumerate(recent)]


def _rule_editor(engine: Engine, segment: dict[str, Any], changed: Any) -> None:
    ui.label("Rule (CEL over customer)").classes("font-semibold")
    rule = ui.input(value=segment["rule"]).classes("w-full font-mono").mark("rule-input")

    async def save() -> None:
        try:
            # A new rule re-evaluates every customer: off the event loop.
            await run.io_bound(segments.update_segment, engine, segment["id"], SegmentUpdate(rule=rule.value))
        except (ValueError, JourneysError) as error:
            notify_problem(error)
            return
        ui.notify("Rule saved; membership re-evaluated", type="positive")
        await changed()

    ui.button("Save rule", icon="save", on_click=save).mark("save-rule")


def _static_editor(engine: Engine, segment_id: str, changed: Any) -> None:
    ui.label("Static segment: add or remove customers by id").classes("font-semibold")
    ids = ui.input("Customer ids, comma separated").classes("w-full").mark("member-ids")

    async def apply(add: bool) -> None:
        wanted = [part.strip() for part in (ids.value or "").split(",") if part.strip()]
        try:
            result = await run.io_bound(segments.change_members, engine, segment_id, wanted if add else [],
                                        [] if add else wanted)
        except JourneysError as error:
            notify_problem(error)
            return
        ui.notify(f"{result['added']} added, {result['removed']} removed", type="positive")
        ids.value = ""
        await changed()

    with ui.row():
        ui.button("Add", icon="person_add", on_click=lambda: apply(True)).mark("add-members")
        ui.button("Remove", icon="person_remove", on_click=lambda: apply(False)).props("outline")
