"""/monitor: how the engine is doing — throughput, backlog and lag, dispatcher, errors, journeys, live stream.

Figures come from engine.monitoring.engine_status (indexed reads); the page subscribes to the live bus,
appends each delta to a bounded stream at once, and coalesces figure refreshes to at most one per
REFRESH_DELAY.
"""

from __future__ import annotations

from typing import Any

from nicegui import run, ui

from engine.engine import Engine
from engine.monitoring import engine_status
from ui.components.live_refresh import Coalescer
from ui.components.paged_table import when
from ui.components.tiles import Tiles
from ui.dependencies import EngineDep
from ui.layout import frame
from ui.page_load import first_read

REFRESH_DELAY = 0.5  # seconds
# Worker processes publish on their own live bus, not this one: the figures are also re-read this often.
POLL_SECONDS = 5.0
STREAM_LINES = 100

TILES = [
    ("stepsPerSecond", "Steps / s (last minute)", "speed", "text-indigo-600"),
    ("due", "Due backlog", "pending_actions", "text-slate-600"),
    ("lag", "Wake-up lag", "timer", "text-amber-600"),
    ("queued", "Dispatcher queue", "outbox", "text-emerald-600"),
    ("errors", "Errors", "error", "text-red-600"),
]


def tile_values(status: dict[str, Any]) -> dict[str, str]:
    """The headline figures as text."""
    dispatcher, errors, backlog = status["dispatcher"], status["errors"], status["backlog"]
    return {
        "stepsPerSecond": f"{status['throughput']['stepsPerSecond']:,.1f}",
        "due": _figure(backlog["due"], backlog["dueCapped"]),
        "lag": _duration(backlog["wakeUpLagSeconds"]),
        "queued": _figure(dispatcher["queued"], dispatcher["queuedCapped"]),
        "errors": _figure(errors["failedEnrollments"] + dispatcher["failed"],
                          errors["failedEnrollmentsCapped"] or dispatcher["failedCapped"]),
    }


def tile_notes(status: dict[str, Any]) -> dict[str, str]:
    """The small print under each tile."""
    dispatcher, errors, throughput = status["dispatcher"], status["errors"], status["throughput"]
    return {
        "stepsPerSecond": f"{throughput['transitions']:,} steps in {throughput['batches']} batch(es)",
        "due": "enrollments of active journeys due now",
        "lag": "oldest due enrollment waiting",
        "queued": f"{_figure(dispatcher['due'], dispatcher['dueCapped'])} due now · delivery lag "
                  f"{_duration(dispatcher['lagSeconds'])}",
        "errors": " · ".join([
            f"{_figure(errors['failedEnrollments'], errors['failedEnrollmentsCapped'])} failed enrollments",
            f"{_figure(dispatcher['failed'], dispatcher['failedCapped'])} failed deliveries",
            f"{errors['recentBatchErrors']:,} in the last minute"]),
    }


def describe(delta: dict[str, Any], names: dict[str, str]) -> str:
    """One line of the live stream in words, journeys by name (`names`: journey id -> name)."""
    at = (delta.get("at") or "")[11:19]
    kind = delta.get("kind")
    journeys = _journeys(delta.get("journeys") or [], names)
    if kind == "batch":
        if delta.get("exited"):
            line = f"{_count(delta['exited'], 'customer')} left at their journey's time limit"
        else:
            line = f"{_count(delta.get('transitions', 0), 'step')} run"
            line += f" in {journeys}" if journeys else ""
        errors = delta.get("errors", 0)
        line += f", {_count(errors, 'error')}" if errors else ""
    elif kind == "enrolled":
        journey = names.get(delta.get("journeyId") or "", delta.get("journeyId") or "a journey")
        line = f"{_count(delta.get('count', 0), 'customer')} enrolled into {journey}"
    elif kind == "deliveries":
        line = f"{_count(delta.get('attempted', 0), 'message')} sent or tried" + (
            f" for {journeys}" if journeys else "")
    else:
        fields = ", ".join(f"{key.replace('_', ' ')} {_plain(value)}" for key, value in delta.items()
                           if key not in ("kind", "at"))
        line = f"{str(kind or 'event').replace('_', ' ')}: {fields}" if fields else str(kind or "event")
    return f"{at} · {line}" if at else line


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _journeys(journey_ids: list[str], names: dict[str, str], shown: int = 3) -> str:
    """'Welcome, Winback and 2 more': journeys by name, a few of them."""
    named = [names.get(journey_id, journey_id) for journey_id in journey_ids]
    if len(named) > shown:
        return f"{', '.join(named[:shown])} and {len(named) - shown} more"
    return f"{', '.join(named[:-1])} and {named[-1]}" if len(named) > 1 else "".join(named)


def _plain(value: Any) -> str:
    """A value as a person reads it: lists joined with commas, no brackets or quotes."""
    if isinstance(value, list | tuple | set):
        return ", ".join(_plain(item) for item in value) or "none"
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _figure(count: int, capped: bool) -> str:
    """A count, with '+' when the engine stopped counting at its cap."""
    return f"{count:,}+" if capped else f"{count:,}"


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "0 s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


class EngineMonitor:
    def __init__(self, engine: Engine, status: dict[str, Any]) -> None:
        self.engine = engine
        self.live = Coalescer(self.refresh, REFRESH_DELAY)
        self.names = {row["journeyId"]: row["name"] for row in status["journeys"]}
        with ui.row().classes("w-full items-center"):
            ui.label("Engine").classes("text-2xl font-semibold")
            ui.space()
            self.updated = ui.label().classes("text-xs text-slate-500").mark("updated-at")
        self.tiles = Tiles(TILES, min_width=180)
        with ui.card().classes("w-full"):
            ui.label("Journeys").classes("text-lg font-semibold")
            columns = [
                {"name": "name", "label": "Journey", "field": "name", "align": "left"},
                {"name": "status", "label": "Status", "field": "status", "align": "left"},
                {"name": "enrolledNow", "label": "In journey now", "field": "enrolledNow"},
                {"name": "entered", "label": "Entered", "field": "entered"},
                {"name": "completed", "label": "Completed", "field": "completed"},
                {"name": "exited", "label": "Exited", "field": "exited"},
                {"name": "failed", "label": "Failed", "field": "failed"},
                {"name": "due", "label": "Due now", "field": "due"},
                {"name": "lastActivityAt", "label": "Last activity", "field": "lastActivityAt"},
            ]
            self.journeys = ui.table(columns=columns, rows=[], row_key="journeyId").props("flat dense")
            self.journeys.classes("w-full").mark("journey-activity")
            self.journeys.add_slot("body-cell-name", """
                <q-td :props="props"><a :href="'/journeys/' + props.row.journeyId + '/monitor'"
                   class="text-indigo-600 font-medium">{{ props.value }}</a></q-td>""")
        with ui.card().classes("w-full"):
            ui.label("Engine processes").classes("text-lg font-semibold")
            columns = [
                {"name": "id", "label": "Process", "field": "id", "align": "left"},
                {"name": "host", "label": "Host", "field": "host", "align": "left"},
                {"name": "pid", "label": "PID", "field": "pid"},
                {"name": "role", "label": "Role", "field": "role", "align": "left"},
                {"name": "startedAt", "label": "Started", "field": "startedAt", "align": "left"},
                {"name": "lastBeatAt", "label": "Last beat", "field": "lastBeatAt", "align": "left"},
            ]
            self.workers = ui.table(columns=columns, rows=[], row_key="id").props(
                "flat dense hide-pagination no-data-label=\"No engine process is running: start a worker\"")
            self.workers.classes("w-full").mark("engine-workers")
        with ui.row().classes("w-full gap-4 items-stretch no-wrap"):
            with ui.card().classes("w-1/2 min-w-0"):
                ui.label("Live stream").classes("text-lg font-semibold")
                self.stream = ui.log(max_lines=STREAM_LINES).classes("w-full h-72 text-xs").mark("stream")
                self.stream.props("data-stream")
                for delta in reversed(status["recent"][:20]):
                    self.stream.push(describe(delta, self.names))
            with ui.card().classes("w-1/2 min-w-0"):
                ui.label("Latest step executions").classes("text-lg font-semibold")
                columns = [
                    {"name": "at", "label": "At", "field": "at", "align": "left"},
                    {"name": "journey", "label": "Journey", "field": "journey", "align": "left"},
                    {"name": "customerId", "label": "Customer", "field": "customerId", "align": "left"},
                    {"name": "stepId", "label": "Step", "field": "stepId", "align": "left"},
                    {"name": "outcome", "label": "Outcome", "field": "outcome", "align": "left"},
                ]
                self.steps = ui.table(columns=columns, rows=[], row_key="key").props("flat dense hide-bottom")
                self.steps.classes("w-full").mark("recent-steps")
        self.show(status)

    async def on_delta(self, delta: dict[str, Any]) -> None:
        """Every delta joins the stream at once; the figures follow in one coalesced refresh."""
        if not self.live.closed():
            self.stream.push(describe(delta, self.names))
            await self.live.trigger()

    async def refresh(self) -> None:
        status = await run.io_bound(engine_status.engine_status, self.engine)
        if status is not None and not self.live.closed():  # None: the app is shutting down
            self.show(status)

    def show(self, status: dict[str, Any]) -> None:
        self.tiles.show(tile_values(status), tile_notes(status))
        self.updated.set_text(f"updated {status['at'][11:19]} UTC")
        self.journeys.rows = [
            {**row, "lastActivityAt": when(row["lastActivityAt"])}
            for row in status["journeys"]
        ]
        self.journeys.update()
        self.names = {row["journeyId"]: row["name"] for row in status["journeys"]}
        self.workers.rows = [
            {**row, "startedAt": when(row["startedAt"]), "lastBeatAt": when(row["lastBeatAt"])}
            for row in status["workers"]
        ]
        self.workers.update()
        self.steps.rows = [
            {**row, "key": f"{row['enrollmentId']}-{index}", "at": row["at"][11:19],
             "journey": self.names.get(row["journeyId"], row["journeyId"])}
            for index, row in enumerate(status["recentSteps"])
        ]
        self.steps.update()


@ui.page("/monitor")
async def engine_monitor_page(engine: EngineDep) -> None:
    status = await first_read(engine_status.engine_status, engine)
    if status is None:  # still loading (the page says so) or the app is stopping
        return
    with frame("Engine monitor", wide=True):
        view = EngineMonitor(engine, status)
        engine.live.bus.subscribe(view.on_delta)
        ui.timer(0, view.refresh, once=True)  # what changed while the page was on its way to the browser
        ui.timer(POLL_SECONDS, view.live.trigger)
