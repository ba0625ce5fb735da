"""The journey monitor: where every customer is now, what was sent and what came back — pushed live.

The page reads aggregates only (engine.monitoring.metrics) and one page of enrollments at a time. It
subscribes to the live bus and coalesces deltas into at most one refresh per REFRESH_DELAY; it re-reads
once when its websocket connects, so customers who enrolled while the page was loading are counted too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import run, ui

from engine.engine import Engine
from engine.errors import JourneysError, NotFound
from engine.journeys import lifecycle
from engine.monitoring import metrics
from engine.references import References, catalog
from engine.runtime import enrollments
from models.journey import JourneyOut
from ui.components.audit_table import journey_history
from ui.components.enroll_dialog import EnrollAction
from ui.components.flow_canvas import FlowCanvas
from ui.components.flow_model import NO_NAMES
from ui.components.goal_card import GoalCard
from ui.components.live_refresh import Coalescer
from ui.components.monitor_charts import (
    counts_for_canvas,
    deliveries_options,
    responses_options,
    sankey_options,
    series_options,
)
from ui.components.paged_table import PagedTable, column, notify_problem, when
from ui.components.step_words import describe
from ui.components.tiles import Tiles
from ui.dependencies import EngineDep
from ui.layout import STEP_STYLE, frame
from ui.page_load import first_read

REFRESH_DELAY = 0.3  # seconds: deltas within this window become one refresh
PAGE_SIZE = 20
WINDOWS = {1: "1 h", 24: "24 h", 168: "7 d", 720: "30 d"}  # time-series window (hours) -> label
DEFAULT_WINDOW = 24
STATUS_COLOURS = {"active": "primary", "completed": "positive", "exited": "grey-7", "failed": "negative"}

TILES = [
    ("enrolledNow", "Enrolled now", "person_pin_circle", "text-indigo-600"),
    ("entered", "Entered", "login", "text-slate-600"),
    ("completed", "Completed", "flag", "text-emerald-600"),
    ("exited", "Exited", "logout", "text-amber-600"),
    ("failed", "Failed", "error", "text-red-600"),
]


# ---- the page ------------------------------------------------------------------------------------------

class JourneyMonitor:
    """The page's live parts; `refresh` re-reads the aggregates and updates them in place."""

    def __init__(self, engine: Engine, journey_id: str, document: dict[str, Any], data: dict[str, Any],
                 refs: References | None = None) -> None:
        self.engine = engine
        self.journey_id = journey_id
        self.refs = refs or NO_NAMES
        self.step_names = {step["id"]: step["name"] for step in data["steps"]}
        self.version = data["version"]
        self.live = Coalescer(self.refresh, REFRESH_DELAY)
        self.hours = DEFAULT_WINDOW
        self.filters: dict[str, Any] = {"status": None, "step_id": None, "customer_id": None}
        self._header(data)
        self.tiles = Tiles(TILES)
        self.tiles.notes["exited"].mark("note-exited", "exit-reasons")
        with ui.card().classes("w-full p-2"):
            ui.label("Where customers are now").classes("text-sm font-semibold text-slate-500 px-2")
            counts, edges = counts_for_canvas(data)
            self.canvas = FlowCanvas(document, readonly=True, counts=counts, edge_counts=edges, refs=refs)
            self.canvas.classes("h-[380px]").mark("monitor-canvas")
        self.goal = GoalCard(self.engine, journey_id)
        with ui.grid(columns=3).classes("w-full gap-4"):
            with ui.card().classes("w-full"):
                ui.label("Customers at each step now").classes("text-sm font-semibold text-slate-500")
                self.step_bars = ui.column().classes("w-full gap-2").mark("step-bars")
            self.sankey = self._chart("Paths taken", sankey_options(data), "chart-paths", "col-span-2")
        with ui.grid(columns=3).classes("w-full gap-4"):
            with ui.card().classes("w-full"):
                with ui.row().classes("w-full items-center no-wrap"):
                    ui.label("Entries and completions").classes("text-sm font-semibold text-slate-500")
                    ui.space()
                    ui.toggle(WINDOWS, value=self.hours, on_change=self._on_window).props(
                        "dense flat no-caps size=sm").mark("series-window")
                self.series = ui.echart(series_options(data)).classes("w-full h-64").mark("chart-series")
            self.deliveries = self._chart("Deliveries by channel and status", deliveries_options(data),
                                          "chart-deliveries")
            self.responses = self._chart("Response rates per send step", responses_options(data),
                                         "chart-responses")
        self._enrollments_table(data)
        self.timeline = ui.dialog().props("position=right full-height")
        self.show(data)

    def _header(self, data: dict[str, Any]) -> None:
        with ui.row().classes("w-full items-center gap-3"):
            ui.label(data["name"]).classes("text-2xl font-semibold")
            self.status = ui.badge(data["status"]).mark("journey-status")
            self.backfill = ui.label().classes("text-sm text-indigo-600").mark("backfill")
            ui.space()
            self.updated = ui.label().classes("text-xs text-slate-500").mark("updated-at")
            with ui.row().classes("items-center gap-1"):
                ui.icon("sensors", color="positive").classes("animate-pulse")
                ui.label("Live").classes("text-xs text-emerald-600")
            ui.button("Editor", icon="edit",
                      on_click=lambda: ui.navigate.to(f"/journeys/{self.journey_id}")).props("flat no-caps")
            EnrollAction(self.engine, self.journey_id, self.status, "text")

    def _chart(self, title: str, options: dict[str, Any], marker: str, span: str = "") -> ui.echart:
        with ui.card().classes(f"w-full {span}"):
            ui.label(title).classes("text-sm font-semibold text-slate-500")
            return ui.echart(options).classes("w-full h-64").mark(marker)

    def _enrollments_table(self, data: dict[str, Any]) -> None:
        with ui.card().classes("w-full"):
            with ui.row().classes("w-full items-center gap-3"):
                ui.label("Enrollments").classes("text-lg font-semibold")
                ui.space()
                ui.select({None: "Any status", **{s: s.title() for s in STATUS_COLOURS}}, value=None,
                          label="Status", on_change=lambda e: self.filter("status", e.value)
                          ).classes("w-36").mark("filter-status")
                ui.select({None: "Any step", **self.step_names}, value=None, label="Step",
                          on_change=lambda e: self.filter("step_id", e.value)
                          ).classes("w-44").mark("filter-step")
                ui.input("Customer id",
                         on_change=lambda e: self.filter("customer_id", (e.value or "").strip() or None)
                         ).props("clearable dense").classes("w-48").mark("filter-customer")
            columns = [column("customerId", "Customer"), column("status", "Status"), column("step", "Step"),
                       column("enteredAt", "Entered"), column("next", "Next run / ended"),
                       column("note", "Reason / error")]
            self.rows = PagedTable(columns, self._fetch_rows, row=self._row, page_size=PAGE_SIZE,
                                   noun=("enrollment", "enrollments"), empty=self._no_rows)
            self.rows.table.props("dense").classes("cursor-pointer").mark("enrollments").props("data-enrollments")
            self.rows.table.add_slot("body-cell-status", """
                <q-td :props="props"><q-badge :color="{active: 'primary', completed: 'positive',
                  exited: 'grey-7', failed: 'negative'}[props.value]">{{ props.value }}</q-badge></q-td>""")
            self.rows.table.on("rowClick", lambda e: self.open_timeline(e.args[1]["id"]))
            self.rows.total.mark("enrollments-total")
            self.rows.pager.mark("pager")

    # ---- live updates -------------------------------------------------------------------------------

    async def on_delta(self, delta: dict[str, Any]) -> None:
        """A bus delta: if it concerns this journey, schedule one refresh (deltas meanwhile join it)."""
        touched = delta.get("journeys") or [delta.get("journeyId")]
        if self.journey_id in touched:
            await self.live.trigger()

    async def refresh(self) -> None:
        data = await run.io_bound(metrics.journey_metrics, self.engine, self.journey_id, self.hours)
        if data is None or self.live.closed():  # None: the app is shutting down
            return
        if data["version"] != self.version:  # edited while paused: redraw the new definition
            journey = await run.io_bound(lifecycle.get_journey, self.engine, self.journey_id)
            if journey is None:
                return
            self.version = data["version"]
            self.step_names = {step["id"]: step["name"] for step in data["steps"]}
            self.canvas.set_document(journey.model_dump(by_alias=True))
        self.show(data)
        await self.rows.refresh()
        # The goal's figures count enrollments against events: read after the page is up, then now and then.
        await self.goal.refresh_if_stale()

    def show(self, data: dict[str, Any]) -> None:
        totals = data["totals"]
        reasons = ", ".join(f"{why.replace('_', ' ')}: {n:,}" for why, n in totals["exitedByReason"].items())
        self.tiles.show({key: f"{totals[key]:,}" for key, *_ in TILES}, {"exited": reasons})
        self.status.set_text(data["status"])
        backfill = data["backfill"]
        self.backfill.set_visibility(bool(backfill and not backfill["done"]))
        if backfill:
            segment, enrolled = backfill["segmentId"], backfill["enrolled"]
            self.backfill.set_text(f"enrolling segment {segment}: {enrolled:,} so far")
        self.updated.set_text(f"updated {data['at'][11:19]} UTC")
        self.canvas.set_counts(*counts_for_canvas(data))
        # Ring the steps that hold customers and thicken the edges taken: where they are, at a glance.
        self.canvas.highlight([step["id"] for step in data["steps"] if step["current"]],
                              [(edge["source"], edge["target"]) for edge in data["edges"]
                               if edge["count"] and edge["target"]])
        self._show_step_bars(data)
        for chart, options in ((self.sankey, sankey_options(data)), (self.series, series_options(data)),
                               (self.deliveries, deliveries_options(data)),
                               (self.responses, responses_options(data))):
            chart.options.clear()
            chart.options.update(options)
            chart.update()

    def _show_step_bars(self, data: dict[str, Any]) -> None:
        """Steps holding customers, most first: 'where are they' answered without reading a graph."""
        steps = sorted((step for step in data["steps"] if step["current"]), key=lambda step: -step["current"])
        most = max((step["current"] for step in steps), default=1)
        self.step_bars.clear()
        with self.step_bars:
            if not steps:
                ui.label("Nobody is in the journey right now.").classes("text-sm text-slate-500")
            for step in steps:
                icon, colour = STEP_STYLE.get(step["type"], ("help", "#64748b"))
                with ui.column().classes("w-full gap-0"):
                    with ui.row().classes("w-full items-center gap-2 no-wrap"):
                        ui.icon(icon).style(f"color: {colour}")
                        ui.label(step["name"]).classes("text-sm grow truncate")
                        figure = ui.label(f"{step['current']:,}").classes("text-sm font-bold")
                        figure.mark(f"bar-{step['id']}")
                    ui.element("div").classes("h-2 rounded").style(
                        f"background: {colour}; width: {max(2, round(100 * step['current'] / most))}%")

    async def _on_window(self, event: Any) -> None:
        self.hours = int(event.value)
        await self.refresh()

    # ---- enrollments table and timeline --------------------------------------------------------------

    async def filter(self, key: str, value: Any) -> None:
        self.filters[key] = value
        await self.rows.refresh(first_page=True)

    def _no_rows(self) -> str:
        if any(value is not None for value in self.filters.values()):
            return "No enrollments match these filters."
        return ("No enrollments yet: customers enter through the journey's entry segment or event, or by "
                "hand (Enroll).")

    def _fetch_rows(self, limit: int, offset: int) -> dict[str, Any]:
        return enrollments.list_enrollments(self.engine, journey_id=self.journey_id, limit=limit,
                                            offset=offset, **self.filters)

    def _row(self, item: dict[str, Any]) -> dict[str, Any]:
        moment = item["endedAt"] or item["nextRunAt"]
        return {
            "id": item["id"], "customerId": item["customerId"], "status": item["status"],
            "step": self.step_names.get(item["stepId"], item["stepId"] or "—"),
            "enteredAt": when(item["enteredAt"]), "next": when(moment),
            "note": item["error"] or (item["exitReason"] or "").replace("_", " "),
        }

    async def open_timeline(self, enrollment_id: str) -> None:
        item = await run.io_bound(enrollments.get_enrollment, self.engine, enrollment_id)
        messages = await run.io_bound(metrics.enrollment_messages, self.engine, enrollment_id)
        if item is None or messages is None or self.live.closed():
            return
        self.timeline.clear()
        with self.timeline, ui.card().classes("w-[520px] max-w-full h-full").props("data-timeline") as card:
            card.mark("timeline")
            self._timeline_content(item, messages)
        self.timeline.open()

    def _timeline_content(self, item: dict[str, Any], messages: list[dict[str, Any]]) -> None:
        with ui.row().classes("w-full items-center"):
            ui.icon("person").classes("text-xl")
            customer = ui.label(item["customerId"]).classes("text-lg font-semibold")
            customer.mark("timeline-customer").props("data-timeline-customer")
            ui.badge(item["status"], color=STATUS_COLOURS.get(item["status"], "grey"))
            ui.space()
            ui.button(icon="close", on_click=self.timeline.close).props("flat round dense")
        if item["error"]:
            ui.label(item["error"]).classes("text-sm text-red-600")
        with ui.row().classes("gap-2"):
            if item["status"] == "failed":
                ui.button("Retry", icon="replay", on_click=lambda: self.act(enrollments.retry_enrollment,
                                                                            item["id"])).mark("retry")
            if item["status"] == "active":
                ui.button("Exit by hand", icon="logout", color="negative",
                          on_click=lambda: self.act(enrollments.exit_enrollment, item["id"])).mark("exit")
        with ui.timeline(side="right", layout="dense").classes("w-full").mark("timeline-steps"):
            with ui.timeline_entry(subtitle=when(item["enteredAt"]), icon="login"):
                ui.label("Entered the journey").classes("font-medium")
            for entry in item["history"]:
                name = self.step_names.get(entry["stepId"], entry["stepId"] or "journey")
                icon, colour = STEP_STYLE.get(entry["type"], ("history", "#64748b"))
                title = f"{name} — {entry['outcome']}"
                if entry["nextStepId"]:
                    title += f" → {self.step_names.get(entry['nextStepId'], entry['nextStepId'])}"
                with ui.timeline_entry(subtitle=when(entry["at"]), icon=icon):
                    ui.label(title).classes("font-medium").style(f"color: {colour}")
                    # In words (as the test run says it); the stored detail stays one click away.
                    ui.label(describe({**entry, "name": name}, self.refs)).classes("text-sm").mark(
                        "timeline-sentence")
                    if entry["detail"]:
                        with ui.expansion("Details").props("dense").classes("text-xs text-slate-500"):
                            for key, value in entry["detail"].items():
                                _detail(key, value)
            if item["status"] == "active":
                with ui.timeline_entry(subtitle=f"next run {when(item['nextRunAt'])}", icon="more_horiz"):
                    ui.label(f"Now at {self.step_names.get(item['stepId'], item['stepId'])}").classes(
                        "font-medium").mark("timeline-now")
        if messages:
            ui.label("Messages").classes("text-sm font-semibold text-slate-500 mt-2")
            for message in messages:
                responses = [f"{r['outcome']} {when(r['at'])}" for r in message["responses"]]
                step = self.step_names.get(message["stepId"], message["stepId"])
                ui.label(f"{step} via {message['channelName']}: {message['status']}"
                         f" ({message['attempts']} attempts) — {', '.join(responses) or 'no response'}"
                         ).classes("text-sm").mark("timeline-message")

    async def act(self, action: Callable[[Engine, str], Any], enrollment_id: str) -> None:
        try:
            await run.io_bound(action, self.engine, enrollment_id)
        except JourneysError as error:
            notify_problem(error, "warning")
            return
        ui.notify("Done", type="positive")
        await self.open_timeline(enrollment_id)
        await self.refresh()


def _detail(key: str, value: Any) -> None:
    """One line of a step's explanation; a list of records (a decision trace) gets a line per record."""
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        ui.label(f"{key}:").classes("text-xs text-slate-500")
        for item in value[:20]:
            ui.label("· " + " · ".join(_compact(part) for part in item.values())).classes(
                "text-xs text-slate-500 pl-2 break-all")
        return
    ui.label(f"{key}: {_compact(value)}").classes("text-xs text-slate-500 break-all")


def _compact(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 300 else text[:297] + "…"


def _first_read(engine: Engine, journey_id: str) -> tuple[JourneyOut, dict[str, Any], References]:
    return (lifecycle.get_journey(engine, journey_id), metrics.journey_metrics(engine, journey_id),
            catalog(engine))


@ui.page("/journeys/{journey_id}/monitor")
async def monitor_page(engine: EngineDep, journey_id: str) -> None:
    # Subscribe before the first read: a delta published in between still triggers a refresh.
    holder: dict[str, JourneyMonitor] = {}

    async def on_delta(delta: dict[str, Any]) -> None:
        if "view" in holder:
            await holder["view"].on_delta(delta)

    engine.live.bus.subscribe(on_delta)
    try:
        loaded = await first_read(_first_read, engine, journey_id)
    except NotFound:
        with frame("Not found"):
            ui.label(f"No journey {journey_id}.").mark("not-found")
            ui.link("All journeys", "/journeys")
        return
    if loaded is None:  # still loading (the page says so) or the app is stopping
        return
    journey, data, refs = loaded
    with frame(f"Monitor · {journey.name}", wide=True):
        document = journey.model_dump(by_alias=True)
        view = holder["view"] = JourneyMonitor(engine, journey_id, document, data, refs)
        await view.rows.refresh()
        await journey_history(engine, journey_id)
        # Customers who enrolled while the page loaded: a timer first fires once the browser is connected.
        ui.timer(0, view.refresh, once=True)
