"""The journey editor (/journeys/{id}): canvas, docked panels, live validation, undo/redo, autosave.

Every edit (canvas or panel) redraws at once, is validated off the event loop (the issue list follows a
moment later) and is saved a little after the last one; closing the tab saves what is still pending.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable
from typing import Any

from nicegui import background_tasks, run, ui
from pydantic import ValidationError

from engine.audience.attributes import Attribute, customer_attributes
from engine.engine import Engine
from engine.errors import JourneysError, NotFound
from engine.expressions import Limits
from engine.journeys import lifecycle
from engine.references import catalog
from models.journey import STEP_TYPES, JourneyUpdate
from ui.components.dialogs import dialog_actions
from ui.components.editor_state import EditorState
from ui.components.enroll_dialog import EnrollAction
from ui.components.flow_canvas import FlowCanvas
from ui.components.flow_model import ENTRY_ID
from ui.components.step_panels import step_panel
from ui.components.step_panels_base import PanelContext
from ui.components.step_panels_settings import settings_panel
from ui.components.test_run import simulation_panel
from ui.dependencies import EngineDep
from ui.layout import frame, guard, may
from ui.page_load import first_read

AUTOSAVE_SECONDS = 0.8
ISSUE_CHIPS = 4  # issues shown as chips on the strip; every one is in the summary's menu
CHIP_CHARS = 44
# Height of what surrounds the editor (header and page padding), and of the role notice some roles see.
EDITOR_CHROME_PX = 116
ROLE_NOTICE_PX = 40
STATUS_COLORS = {"draft": "grey-7", "active": "positive", "paused": "warning", "archived": "grey-5"}
# In the one-line toolbar only the title gives way (ellipsis); buttons and labels keep their size.
TOOLBAR_CSS = "[data-toolbar] > * { flex-shrink: 0; } [data-toolbar] > .editor-title { flex-shrink: 1; }"
LEAVE_GUARD = """<script>
window.addEventListener('beforeunload', (e) => {
  if (window.journeysUnsaved) { e.preventDefault(); e.returnValue = ''; }
});
</script>"""


def _tool(label: str, icon: str, action: Callable[[], Any] | None, marker: str, *, tip: str = "",
          colour: str = "", name: str = "") -> ui.button:
    """A toolbar button: flat (icon-only ones round, named `name` for screen readers and tests), or filled
    in `colour` for the status actions."""
    button = ui.button(label, icon=icon, on_click=action).mark(marker)
    if colour:
        button.props(f"unelevated dense color={colour}")
    else:
        button.props("flat dense" + ("" if label else f' round aria-label="{name or tip}"'))
    return button.tooltip(tip) if tip else button


def _load(engine: Engine, journey_id: str) -> tuple[dict[str, Any], Any, list[Attribute]]:
    journey = lifecycle.get_journey(engine, journey_id).model_dump(by_alias=True)
    return journey, catalog(engine), customer_attributes(engine)


@ui.page("/journeys/{journey_id}")
async def editor_page(engine: EngineDep, journey_id: str) -> None:
    try:
        loaded = await first_read(_load, engine, journey_id)
    except NotFound:
        with frame("Journey not found"):
            ui.label(f"There is no journey '{journey_id}'.").classes("text-lg")
            ui.link("Back to journeys", "/journeys")
        return
    if loaded is None:  # still loading (the page says so) or the app is stopping
        return
    journey, refs, attributes = loaded
    with frame(journey["name"], wide=True):
        Editor(engine, journey, refs, attributes)


class Editor:
    """Wires the canvas, panels, toolbar and issue list to one EditorState."""

    def __init__(
        self, engine: Engine, journey: dict[str, Any], refs: Any, attributes: list[Attribute]
    ) -> None:
        self.engine = engine
        self.state = EditorState(journey)
        self.attributes = attributes  # what customers carry, for the condition builder
        # An imported or API-made journey: lay it out, and keep that where it can be stored.
        placed = self.state.place_unpositioned(storable=bool(self.saved_fields))
        self.refs = refs
        self.client = ui.context.client
        self.issues: list[dict[str, Any]] = []
        # Validation runs in a worker thread; only the answer for the latest document is shown.
        self.validation_round = 0
        # One save at a time; a save that waited finds the newest document to send.
        self.save_lock = asyncio.Lock()
        self.panel: str | None = None
        self.panel_step: str | None = None
        self.save_error: str | None = None
        # Someone else saved this journey since it was loaded: saving would overwrite them, so it stops.
        self.stale = False
        self.save_timer: ui.timer | None = None
        self.unsaved_flag = False
        ui.add_body_html(LEAVE_GUARD)
        ui.add_css(TOOLBAR_CSS)
        # Toolbar, issue strip and canvas fill the window below the header: nothing to scroll to.
        chrome = EDITOR_CHROME_PX + (0 if may("admin") else ROLE_NOTICE_PX)
        with ui.column().classes("w-full gap-2 no-wrap").style(f"height: calc(100vh - {chrome}px)"):
            self._toolbar()
            with ui.row().classes("w-full no-wrap items-stretch gap-3 grow min-h-0"):
                self.canvas = (
                    FlowCanvas(self.state.doc, readonly=self.structure_locked, refs=self.refs)
                    .classes("grow min-w-0")
                    .style("height: 100%")
                    .mark("canvas")
                )
                # Docked beside the canvas; the canvas keeps its zoom and keeps the selected step in view.
                self.dock = (
                    ui.card()
                    .classes("w-96 shrink-0 p-3 gap-2 overflow-y-auto")
                    .props("flat bordered data-dock")
                    .style("height: 100%")
                    .mark("dock")
                )
        for event, handler in (
            ("step_drop", self.on_drop),
            ("nodes_moved", self.on_moved),
            ("edge_connect", self.on_connect),
            ("edge_disconnect", self.on_disconnect),
            ("steps_delete", self.on_delete),
            ("selection", self.on_select),
            ("undo_request", lambda _: self.undo()),
            ("redo_request", lambda _: self.redo()),
            ("escape_key", lambda _: self.close_panel()),
        ):
            self.canvas.on(event, handler)
        self.refresh(panel=True)
        if placed:
            self.schedule_save()
        # Closing the tab (or losing the connection) saves what the debounce has not saved yet.
        self.client.on_disconnect(self.flush)

    @property
    def structure_locked(self) -> bool:
        # A viewer may look, not change: the canvas is read-only for them whatever the status.
        return self.state.status in ("active", "archived") or not may("editor")

    @property
    def saved_fields(self) -> tuple[str, ...]:
        """What a save sends: the whole document while the structure may change; while active the name,
        description, goal and steps, whose positions alone may differ (the engine keeps a positions-only
        change without a new version); nothing for a viewer or an archived journey."""
        if not may("editor") or self.state.status == "archived":
            return ()
        if self.state.status == "active":
            return ("name", "description", "goal", "steps")
        return tuple(self.state.doc)

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [issue for issue in self.issues if issue["severity"] == "error"]

    # ---- layout ---------------------------------------------------------------------------------------

    def _toolbar(self) -> None:
        # One line at 1280 px in every status: the title gives way (ellipsis), secondary actions are icons.
        with ui.row().classes("w-full items-center gap-1 no-wrap").props("data-toolbar"):
            ui.button(icon="arrow_back", on_click=lambda: ui.navigate.to("/journeys")).props(
                'flat round dense aria-label="All journeys"'
            ).tooltip("All journeys")
            self.title = ui.label(self.state.doc["name"]).classes(
                "editor-title text-xl font-semibold truncate min-w-0"
            ).mark("title")
            self.status_badge = ui.badge().classes("text-sm shrink-0").mark("status")
            self.version_label = ui.label().classes("text-xs text-grey-7 whitespace-nowrap").mark("version")
            self.save_label = ui.label().classes("text-xs whitespace-nowrap").mark("save-state")
            ui.space()
            self.undo_button = _tool("", "undo", self.undo, "undo", tip="Undo (Ctrl/Cmd+Z)", name="Undo")
            self.redo_button = _tool("", "redo", self.redo, "redo", tip="Redo (Ctrl/Cmd+Shift+Z)",
                                     name="Redo")
            self.layout_button = _tool("", "auto_graph", self.auto_layout, "auto-layout",
                                       tip="Auto-layout: arrange the steps left to right", name="Auto-layout")
            _tool("", "fit_screen", lambda: self.canvas.fit(), "fit", tip="Fit the whole journey in view",
                  name="Fit to view")
            ui.separator().props("vertical").classes("mx-1")
            _tool("Settings", "tune", lambda: self.open_panel("settings"), "open-settings")
            _tool("Test run", "science", lambda: self.open_panel("test"), "open-test")
            with ui.link(target=f"/journeys/{self.state.journey_id}/monitor").classes("no-underline"):
                _tool("", "monitor_heart", None, "open-monitor",
                      tip="Monitor: live counts, deliveries and enrollments", name="Monitor")
            EnrollAction(self.engine, self.state.journey_id, self.state, "status")
            self.save_button = _tool("", "save", self.save_now, "save",
                                     tip="Save now (changes also save by themselves)", name="Save")
            self.activate_button = _tool("Activate", "play_arrow", lambda: self.set_status("active"),
                                         "activate", colour="positive")
            self.pause_button = _tool("Pause", "pause", lambda: self.set_status("paused"), "pause",
                                      colour="warning", tip="Pause the journey to change its structure")
            self.resume_button = _tool("Resume", "play_arrow", lambda: self.set_status("active"), "resume",
                                       colour="positive")
            self.archive_button = _tool("", "inventory_2", self.confirm_archive, "archive",
                                        tip="Archive: end every enrollment, read-only", name="Archive").props(
                "color=negative")
            for button in (self.activate_button, self.pause_button, self.resume_button):
                guard(button, "editor")
            guard(self.archive_button, "admin")
        # One line, always there, so the canvas below never shifts: the lock, why activation is blocked, and
        # the validation issues (each selects its step); every issue is in the menu behind the summary.
        with ui.row().classes("w-full items-center gap-2 text-sm no-wrap overflow-hidden").style(
            "height: 2rem"
        ).props("data-issues"):
            self.lock_icon = ui.icon("lock").classes("text-warning")
            self.lock_label = ui.label().classes("whitespace-nowrap").mark("locked-banner")
            self.blocked_label = ui.label().classes("text-negative whitespace-nowrap").mark("activate-reason")
            self.issue_box = ui.row().classes("items-center gap-1 no-wrap min-w-0").mark("issues")

    def refresh(self, panel: bool = False) -> None:
        """After any change: redraw and update the toolbar now, and validate in the background."""
        self.canvas.set_document(self.state.doc, self.issues)
        self.canvas.set_readonly(self.structure_locked)
        self._update_toolbar()
        self._render_issues()
        if panel:
            self._render_panel()
        self.validation_round += 1
        background_tasks.create(self._validate(self.validation_round, copy.deepcopy(self.state.doc)),
                                name="editor validation")

    async def _validate(self, round_: int, doc: dict[str, Any]) -> None:
        result = await run.io_bound(lifecycle.validate_document, self.engine, doc)
        if result is None or round_ != self.validation_round or self.client.is_deleted:
            return  # the app is stopping, or a newer edit is being validated: its answer is the one to show
        self.issues = [issue.model_dump(by_alias=True) for issue in result.issues]
        self.canvas.set_document(self.state.doc, self.issues)
        self._update_toolbar()
        self._render_issues()

    def _update_toolbar(self) -> None:
        state = self.state
        self.title.text = state.doc["name"] or "(no name)"
        self.status_badge.text = state.status
        self.status_badge.props(f"color={STATUS_COLORS.get(state.status, 'grey')}")
        self.version_label.text = f"version {state.version}"
        if self.save_error:
            self.save_label.text = f"Not saved: {self.save_error}"
            self.save_label.classes(replace="text-sm text-negative")
        elif state.dirty:
            self.save_label.text = "Unsaved changes…"
            self.save_label.classes(replace="text-sm text-warning")
        else:
            self.save_label.text = "All changes saved"
            self.save_label.classes(replace="text-sm text-positive")
        self.undo_button.set_enabled(state.can_undo and not self.structure_locked)
        self.redo_button.set_enabled(state.can_redo and not self.structure_locked)
        self.layout_button.set_enabled(not self.structure_locked)
        self.save_button.set_enabled(state.dirty)
        self.activate_button.set_visibility(state.status == "draft")
        self.pause_button.set_visibility(state.status == "active")
        self.resume_button.set_visibility(state.status == "paused")
        self.archive_button.set_visibility(state.status != "archived")
        errors = self.errors
        reason = ""
        if errors and state.status in ("draft", "paused"):
            reason = (
                f"Cannot {'activate' if state.status == 'draft' else 'resume'}: {len(errors)} "
                f"error{'s' if len(errors) != 1 else ''} to fix"
            )
        self.activate_button.set_enabled(not errors)
        self.resume_button.set_enabled(not errors)
        self.blocked_label.text = reason
        lock = {
            "active": "Active: the structure is read-only (rename in Settings); pause to edit it.",
            "archived": "Archived: this journey is read-only.",
        }.get(state.status, "")
        self.lock_label.text = lock
        self.lock_icon.set_visibility(bool(lock))
        self.lock_label.set_visibility(bool(lock))
        if state.dirty != self.unsaved_flag:
            self.unsaved_flag = state.dirty
            self.client.run_javascript(f"window.journeysUnsaved = {json.dumps(state.dirty)}")

    def _render_issues(self) -> None:
        self.issue_box.clear()
        errors = self.errors
        warnings = [issue for issue in self.issues if issue["severity"] != "error"]
        names = {step["id"]: step.get("name") or step["id"] for step in self.state.doc["steps"]}
        with self.issue_box:
            if not self.issues:
                ui.label("✓ No problems found").classes("text-positive whitespace-nowrap").mark(
                    "issues-summary")
                return
            summary = (f"{len(errors)} error{'s' if len(errors) != 1 else ''} · "
                       f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}")
            with ui.button(summary, icon="checklist").props("flat dense size=sm").classes(
                "shrink-0"
            ).mark("issues-summary"), ui.menu().props("max-height=60vh"):
                for issue in self.issues:
                    step_id = issue.get("stepId")
                    label = f"{names.get(step_id, step_id) if step_id else 'Journey'}: {issue['message']}"
                    ui.menu_item(label, lambda s=step_id: self.select_step(s)).props(
                        f'data-issue-menu-step="{step_id or ""}"'
                    ).mark("issue-menu-item")
            for issue in self.issues[:ISSUE_CHIPS]:
                error = issue["severity"] == "error"
                step_id = issue.get("stepId")
                where = names.get(step_id, step_id) if step_id else "Journey"
                text = f"{where}: {issue['message']}"
                (
                    ui.chip(text if len(text) <= CHIP_CHARS else text[:CHIP_CHARS - 1] + "…",
                            icon="error" if error else "warning",
                            color="red-1" if error else "orange-1",
                            text_color="negative" if error else "warning",
                            on_click=lambda s=step_id: self.select_step(s))
                    .props(f'dense clickable data-issue-step="{step_id or ""}"')
                    .classes("shrink-0")
                    .tooltip(f"{text} (click to open {'the step' if step_id else 'the settings'})")
                    .mark("issue-item", f"issue-{step_id or 'journey'}")
                )

    # ---- panels ---------------------------------------------------------------------------------------

    def _context(self) -> PanelContext:
        return PanelContext(
            state=self.state,
            refs=self.refs,
            readonly=self.structure_locked,
            changed=lambda: self.after_edit(),
            rebuild=lambda: self.after_edit(panel=True),
            delete=lambda step_id: self.delete([step_id]),
            limits=Limits.of(self.engine.settings),
            attributes=self.attributes,
        )

    def _render_panel(self) -> None:
        self.dock.clear()
        if self.panel == "step" and self.panel_step and self.state.step(self.panel_step) is None:
            self.panel, self.panel_step = None, None
        self.dock.set_visibility(self.panel is not None)
        if self.panel is None:
            return
        with self.dock:
            with ui.row().classes("w-full justify-end -mb-2"):
                ui.button(icon="close", on_click=self.close_panel).props("flat round dense").tooltip(
                    "Close (Esc)"
                ).mark("close-panel")
            with ui.column().classes("w-full gap-2").props(f'data-panel="{self.panel}"'):
                if self.panel == "step" and self.panel_step:
                    step_panel(self.panel_step, self._context())
                elif self.panel == "settings":
                    settings_panel(self._context(), structure_locked=self.structure_locked)
                elif self.panel == "multi":
                    count = len(self.canvas.selected)
                    ui.label(f"{count} steps selected").classes("text-lg font-semibold")
                    if not self.structure_locked:
                        ui.button(
                            "Delete them", icon="delete", on_click=lambda: self.delete(self.canvas.selected)
                        ).props("flat no-caps color=negative")
                elif self.panel == "test":
                    simulation_panel(self.engine, lambda: self.state.doc, self.canvas)

    def open_panel(self, panel: str, step_id: str | None = None) -> None:
        self.panel, self.panel_step = panel, step_id
        if panel != "step":
            self.canvas.select([])
        if panel != "test":
            self.canvas.highlight([], [])
        self._render_panel()

    def close_panel(self) -> None:
        self.panel, self.panel_step = None, None
        self.canvas.select([])
        self.canvas.highlight([], [])
        self._render_panel()

    def select_step(self, step_id: str | None) -> None:
        """Select a step (from the issue list): the canvas shows it and its panel opens."""
        if step_id and self.state.step(step_id) is not None:
            self.canvas.select([step_id])
            self.panel, self.panel_step = "step", step_id
        else:
            self.canvas.select([])
            self.panel, self.panel_step = "settings", None
        self._render_panel()

    # ---- canvas events ------------------------------------------------------------------------------

    def on_drop(self, event: Any) -> None:
        if self.structure_locked:
            ui.notify("Pause the journey to change its structure", type="warning")
            return
        args = event.args
        if args.get("type") not in STEP_TYPES:
            return
        step_id = self.state.add_step(args["type"], float(args["x"]), float(args["y"]), self.refs)
        self.canvas.select([step_id])
        self.panel, self.panel_step = "step", step_id
        self.after_edit(panel=True)

    def on_moved(self, event: Any) -> None:
        if self.state.move(event.args["moves"]):
            self.after_edit()

    def on_connect(self, event: Any) -> None:
        args = event.args
        if not self.structure_locked and self.state.connect(args["source"], args["port"], args["target"]):
            self.after_edit(panel=True)

    def on_disconnect(self, event: Any) -> None:
        args = event.args
        if not self.structure_locked and self.state.disconnect(args["source"], args["port"]):
            self.after_edit(panel=True)

    def on_delete(self, event: Any) -> None:
        self.delete(event.args["ids"])

    def delete(self, ids: list[str]) -> None:
        if self.structure_locked:
            return
        if self.state.delete_steps([step_id for step_id in ids if step_id != ENTRY_ID]):
            self.canvas.select([])
            self.panel, self.panel_step = None, None
            self.after_edit(panel=True)

    def on_select(self, event: Any) -> None:
        ids = event.args["ids"]
        self.canvas.props["selected"] = list(ids)
        if len(ids) == 1 and ids[0] == ENTRY_ID:
            self.panel, self.panel_step = "settings", None
        elif len(ids) == 1:
            self.panel, self.panel_step = "step", ids[0]
        elif len(ids) > 1:
            self.panel, self.panel_step = "multi", None
        elif self.panel in ("step", "multi"):
            self.panel, self.panel_step = None, None
        self._render_panel()

    def undo(self) -> None:
        if not self.structure_locked and self.state.undo():
            self.after_edit(panel=True)

    def redo(self) -> None:
        if not self.structure_locked and self.state.redo():
            self.after_edit(panel=True)

    def auto_layout(self) -> None:
        if self.state.auto_layout():
            self.after_edit()
            self.canvas.fit(readable=True)

    # ---- saving and lifecycle -----------------------------------------------------------------------

    def after_edit(self, panel: bool = False) -> None:
        self.refresh(panel=panel)
        self.schedule_save()

    def schedule_save(self) -> None:
        """Autosave about a second after the last change."""
        if self.save_timer is not None:
            self.save_timer.cancel()
        with self.canvas:
            self.save_timer = ui.timer(AUTOSAVE_SECONDS, self.save, once=True)

    async def save_now(self) -> None:
        if await self.save():
            ui.notify("Saved", type="positive")

    async def flush(self) -> None:
        """Save now if anything is pending (the tab is closing or the connection dropped)."""
        if self.save_timer is not None:
            self.save_timer.cancel()
        if self.state.dirty:
            await self.save()

    async def save(self) -> bool:
        """Store the working copy (`saved_fields`); True when nothing is left unsaved."""
        async with self.save_lock:
            state = self.state
            if self.stale:
                return False
            if not state.dirty or state.status == "archived":
                self.save_error = None if not state.dirty else "the journey is archived"
                return not state.dirty
            fields = self.saved_fields
            sent = copy.deepcopy({field: state.doc[field] for field in fields})
            try:
                saved = await run.io_bound(_store, self.engine, state.journey_id, sent, state.revision)
            except lifecycle.Stale:
                self.stale = True
                self.save_error = "changed elsewhere since you opened it"
                if not self.client.is_deleted:
                    self._offer_reload()
            except ValidationError as error:
                first = error.errors()[0]
                self.save_error = f"{'.'.join(str(part) for part in first['loc'])}: {first['msg']}"
            except JourneysError as error:
                self.save_error = error.message
            else:
                if saved is None:  # the app is stopping: the worker did not run
                    return False
                self.save_error = None
                state.mark_saved(saved, sent)
            if not self.client.is_deleted:
                self._update_toolbar()
            return self.save_error is None and not state.dirty

    def _offer_reload(self) -> None:
        """Tell the person their copy is out of date, and offer to load the journey as it is now."""
        with self.client, ui.dialog().props("persistent") as dialog, ui.card().mark("stale-dialog"):
            ui.label("This journey was changed elsewhere").classes("text-lg font-semibold")
            ui.label("Someone (another tab, or the API) saved it after you opened it. Your changes here are "
                     "not saved, so theirs are not overwritten. Reload to see the journey as it is now; "
                     "your unsaved changes here will be lost.")
            dialog_actions(dialog, "Reload", ui.navigate.reload, "reload-journey", dismiss="Keep this view",
                           icon="refresh")
        dialog.open()

    async def set_status(self, status: str) -> None:
        if self.state.dirty and not await self.save():
            ui.notify(f"Save the changes first: {self.save_error or 'unsaved changes'}", type="negative")
            return
        try:
            journey = await run.io_bound(lifecycle.change_status, self.engine, self.state.journey_id, status)
        except JourneysError as error:
            ui.notify(error.message, type="negative", multi_line=True)
            return
        self.state.mark_saved(journey.model_dump(by_alias=True), {})
        ui.notify(f"The journey is now {journey.status}", type="positive")
        self.refresh(panel=True)

    def confirm_archive(self) -> None:
        with ui.dialog() as dialog, ui.card():
            ui.label("Archive this journey?").classes("text-lg font-semibold")
            ui.label(
                "Everyone enrolled leaves it (reason journey_archived) and it becomes read-only. "
                "This cannot be undone."
            )

            async def archive() -> None:
                dialog.close()
                await self.set_status("archived")

            dialog_actions(dialog, "Archive", archive, "confirm-archive", colour="negative")
        dialog.open()


def _store(engine: Engine, journey_id: str, sent: dict[str, Any], revision: int) -> dict[str, Any]:
    """Save the editable fields `sent` on top of `revision` (in a worker thread; Stale when the journey
    moved on); the journey as stored after it."""
    data = JourneyUpdate.model_validate(sent)
    saved = lifecycle.update_journey(engine, journey_id, data, expected_revisions={revision})
    return saved.model_dump(by_alias=True)
