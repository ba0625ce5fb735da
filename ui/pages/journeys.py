"""The journeys list (the home page): search, filter, create, duplicate, import/export, archive, delete."""

from __future__ import annotations

import json
from typing import Any

from nicegui import events, run, ui

from engine.engine import Engine
from engine.errors import JourneysError
from engine.journeys import lifecycle
from engine.monitoring import metrics
from models.journey import STATUSES, JourneyCreate
from ui.components.dialogs import dialog_actions
from ui.components.paged_table import when
from ui.dependencies import EngineDep
from ui.layout import frame, guard
from ui.page_load import first_read

PAGE_SIZE = 20
STATUS_COLORS = {"draft": "grey-7", "active": "positive", "paused": "warning", "archived": "grey-5"}
DELETABLE = ("draft", "archived")  # the lifecycle's rule; the engine refuses the others anyway


@ui.page("/")
@ui.page("/journeys")
async def journeys_page(engine: EngineDep) -> None:
    first = await first_read(_page, engine, None, 1, None)
    if first is None:  # still loading (the page says so) or the app is stopping
        return
    with frame("Journeys"):
        JourneyList(engine).show(*first)


class JourneyList:
    """The filterable, paginated list with its actions; every database call runs off the event loop."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.page = 1
        with ui.row().classes("w-full items-center gap-3"):
            ui.label("Journeys").classes("text-2xl font-semibold")
            ui.space()
            self.search = (
                ui.input(placeholder="Search by name or id")
                .props("outlined dense clearable")
                .classes("w-64")
                .mark("search")
            )
            self.status = (
                ui.select({"": "Any status", **{s: s.title() for s in STATUSES}}, value="")
                .props("outlined dense")
                .classes("w-40")
                .mark("status-filter")
            )
            guard(ui.button("New journey", icon="add", on_click=self.create_dialog).props(
                "unelevated no-caps"
            ).mark("new-journey"), "editor")
            guard(ui.button("Import", icon="upload", on_click=self.import_dialog).props("outline").mark(
                "import"
            ), "editor")
        self.search.on_value_change(lambda _: self.reload(first_page=True))
        self.status.on_value_change(lambda _: self.reload(first_page=True))
        self.body = ui.column().classes("w-full gap-2").mark("journey-list")

    async def reload(self, first_page: bool = False) -> None:
        if first_page:
            self.page = 1
        try:
            read = await run.io_bound(
                _page, self.engine, self.status.value or None, self.page, self.search.value or None)
        except JourneysError as error:
            ui.notify(error.message, type="negative")
            return
        if read is not None and not self.body.is_deleted:  # None: the app is shutting down
            self.show(*read)

    def show(self, envelope: dict[str, Any], live: dict[str, Any]) -> None:
        """Draw one page of journeys with their live totals."""
        self.body.clear()
        with self.body:
            if not envelope["data"]:
                ui.label(
                    "No journeys match."
                    if self.search.value or self.status.value
                    else "No journeys yet: create one."
                ).classes("text-grey-7").mark("empty")
            for journey in envelope["data"]:
                self._row(journey, live.get(journey["id"], {}))
            total = envelope["pagination"]["total"]
            if total > PAGE_SIZE:
                ui.pagination(
                    1,
                    (total + PAGE_SIZE - 1) // PAGE_SIZE,
                    direction_links=True,
                    value=self.page,
                    on_change=lambda e: self._go(e.value),
                )

    async def _go(self, page: int) -> None:
        self.page = page
        await self.reload()

    def _row(self, journey: dict[str, Any], live: dict[str, Any]) -> None:
        journey_id = journey["id"]
        with (
            ui.card().classes("w-full p-3").props("flat bordered").mark(f"journey-{journey_id}"),
            ui.row().classes("w-full items-center gap-4 no-wrap"),
        ):
            with ui.column().classes("gap-0 grow min-w-0"):
                ui.link(journey["name"], f"/journeys/{journey_id}").classes("text-base font-semibold").mark(
                    f"open-{journey_id}"
                )
                updated = when(journey["updatedAt"], seconds=False)
                ui.label(f"{journey_id} · {len(journey['steps'])} steps · updated {updated}").classes(
                    "text-xs text-grey-7"
                )
            ui.badge(journey["status"]).props(f"color={STATUS_COLORS[journey['status']]}").mark("status")
            ui.label(f"v{journey['version']}").classes("text-sm text-grey-7 w-10")
            with ui.column().classes("gap-0 items-end w-40"):
                ui.label(str(live.get("enrolledNow", 0))).classes("text-lg font-semibold").mark("enrolled")
                ui.label(f"enrolled now · {live.get('entered', 0)} entered").classes("text-xs text-grey-7")
            with ui.row().classes("gap-0 no-wrap"):
                with ui.link(target=f"/journeys/{journey_id}/monitor"):
                    ui.button(icon="monitor_heart").props("flat round dense").tooltip("Monitor").mark(
                        f"monitor-{journey_id}"
                    )
                guard(ui.button(icon="content_copy", on_click=lambda: self.duplicate(journey_id)).props(
                    "flat round dense"
                ).tooltip("Duplicate").mark(f"duplicate-{journey_id}"), "editor")
                ui.button(icon="download", on_click=lambda: self.export(journey_id)).props(
                    "flat round dense"
                ).tooltip("Export JSON").mark(f"export-{journey_id}")
                if journey["status"] != "archived":
                    archive = ui.button(icon="inventory_2", on_click=lambda: self.confirm(journey, "archive"))
                    guard(archive.props("flat round dense").tooltip("Archive").mark(f"archive-{journey_id}"),
                          "admin")
                if journey["status"] in DELETABLE:
                    guard(ui.button(icon="delete", on_click=lambda: self.confirm(journey, "delete")).props(
                        "flat round dense color=negative"
                    ).tooltip("Delete").mark(f"delete-{journey_id}"), "admin")
                else:
                    # A disabled button shows no tooltip: the reason sits on a wrapper around it.
                    with ui.element("span").tooltip(
                        f"The journey is {journey['status']}: archive it first to delete it"
                    ).mark(f"delete-reason-{journey_id}"):
                        ui.button(icon="delete").props("flat round dense color=grey disable").mark(
                            f"delete-{journey_id}")

    # ---- actions --------------------------------------------------------------------------------------

    def create_dialog(self) -> None:
        with ui.dialog() as dialog, ui.card().classes("w-96"):
            ui.label("New journey").classes("text-lg font-semibold")
            name = ui.input("Name").props("outlined dense autofocus").classes("w-full").mark("new-name")
            description = ui.textarea("Description (optional)").props("outlined dense").classes("w-full")

            async def create() -> None:
                if not (name.value or "").strip():
                    ui.notify("Give the journey a name", type="warning")
                    return
                created = await run.io_bound(
                    lifecycle.create_journey, self.engine,
                    JourneyCreate(name=name.value.strip(), description=description.value or ""),
                )
                dialog.close()
                ui.navigate.to(f"/journeys/{created.id}")

            name.on("keydown.enter", create)
            dialog_actions(dialog, "Create", create, "create")
        dialog.open()

    def import_dialog(self) -> None:
        async def received(event: events.UploadEventArguments) -> None:
            try:
                document = json.loads(await event.file.text())
                created = await run.io_bound(lifecycle.import_journey, self.engine, document)
            except (ValueError, JourneysError) as error:
                ui.notify(
                    f"Import failed: {getattr(error, 'message', error)}", type="negative", multi_line=True
                )
                return
            dialog.close()
            ui.notify(f"Imported as a new draft: {created.name}", type="positive")
            await self.reload()

        with ui.dialog() as dialog, ui.card():
            ui.label("Import a journey (exported JSON)").classes("text-lg font-semibold")
            ui.upload(on_upload=received, auto_upload=True).props("accept=.json").mark("import-upload")
        dialog.open()

    async def duplicate(self, journey_id: str) -> None:
        copy = await run.io_bound(lifecycle.duplicate_journey, self.engine, journey_id)
        ui.notify(f"Created {copy.name}", type="positive")
        await self.reload()

    async def export(self, journey_id: str) -> None:
        document = await run.io_bound(lifecycle.export_journey, self.engine, journey_id)
        ui.download.content(json.dumps(document, indent=2).encode(), f"{journey_id}.json", "application/json")

    def confirm(self, journey: dict[str, Any], action: str) -> None:
        explain = {
            "archive": "Everyone enrolled leaves the journey; it becomes read-only. This cannot be undone.",
            "delete": "The journey, its versions and its history are removed for good.",
        }[action]
        with ui.dialog() as dialog, ui.card():
            ui.label(f"{action.title()} “{journey['name']}”?").classes("text-lg font-semibold")
            ui.label(explain)
            async def confirmed() -> None:
                dialog.close()
                await self.apply(journey["id"], action)

            dialog_actions(dialog, action.title(), confirmed, f"confirm-{action}", colour="negative")
        dialog.open()

    async def apply(self, journey_id: str, action: str) -> None:
        """Archive or delete (off the event loop: archive exits everyone enrolled); a refusal (lifecycle
        rules) is explained rather than hidden."""
        try:
            if action == "archive":
                await run.io_bound(lifecycle.change_status, self.engine, journey_id, "archived")
            else:
                await run.io_bound(lifecycle.delete_journey, self.engine, journey_id)
        except JourneysError as error:
            hint = " Only draft and archived journeys can be deleted." if action == "delete" else ""
            ui.notify(f"Cannot {action}: {error.message}.{hint}", type="negative", multi_line=True)
            return
        ui.notify(f"{'Archived' if action == 'archive' else 'Deleted'}", type="positive")
        await self.reload()


def _page(
    engine: Engine, status: str | None, page: int, search: str | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One page of journeys and their live totals (runs in a worker thread)."""
    envelope = lifecycle.list_journeys(engine, status=status, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
                                       search=search)
    return envelope, metrics.journey_totals(engine, [journey["id"] for journey in envelope["data"]])
