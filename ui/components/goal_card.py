"""The monitor's Goal card: who converted, per split branch (with which branch wins) and per way of ending.

It reads engine.monitoring.goals off the event loop when the page opens, on its refresh button, and with the
monitor's live refreshes at most once per REFRESH_SECONDS: the figures count enrollments against events
(heavier than the monitor's counters), and a conversion rate need not move with every step a customer takes.
"""

from __future__ import annotations

import time
from typing import Any

from nicegui import run, ui

from engine.engine import Engine
from engine.errors import JourneysError
from engine.monitoring import goals
from ui.components.monitor_charts import goal_options
from ui.components.paged_table import column

REFRESH_SECONDS = 60.0


def percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def difference_text(difference: dict[str, float] | None) -> str:
    """'+4.1 pts (95% CI 1.2 to 7.0)', or a dash while a branch is empty."""
    if difference is None:
        return "—"
    value, low, high = (difference[key] * 100 for key in ("value", "low", "high"))
    return f"{value:+.1f} pts (95% CI {low:.1f} to {high:.1f})"


class GoalCard:
    """A card marked `goal-card`; `refresh` re-reads the goal results and redraws its body."""

    def __init__(self, engine: Engine, journey_id: str) -> None:
        self.engine = engine
        self.journey_id = journey_id
        self.read_at = float("-inf")  # time.monotonic() of the last read
        with ui.card().classes("w-full").props("data-goal-card").mark("goal-card"):
            with ui.row().classes("w-full items-center gap-3"):
                ui.icon("emoji_events").classes("text-xl text-amber-500")
                ui.label("Goal").classes("text-lg font-semibold")
                self.summary = ui.label().classes("text-sm text-slate-500").mark("goal-summary")
                ui.space()
                ui.button(icon="refresh", on_click=self.refresh).props("flat round dense").tooltip(
                    "Count again").mark("goal-refresh")
            self.body = ui.column().classes("w-full gap-3")
            with self.body:
                ui.label("Counting conversions…").classes("text-sm text-slate-500")

    async def refresh_if_stale(self) -> None:
        if time.monotonic() - self.read_at >= REFRESH_SECONDS:
            await self.refresh()

    async def refresh(self) -> None:
        self.read_at = time.monotonic()
        try:
            result = await run.io_bound(goals.journey_goal, self.engine, self.journey_id)
        except JourneysError:  # the journey was deleted meanwhile: the page says so elsewhere
            return
        if result is not None and not self.body.is_deleted:  # None: the app is shutting down
            self.show(result)

    def show(self, result: dict[str, Any]) -> None:
        goal, overall = result["goal"], result["overall"]
        self.body.clear()
        if goal is None:
            self.summary.set_text("no goal set")
            with self.body:
                ui.label(
                    "Set a goal to see who converts, per split branch and per end: in the editor open "
                    "Settings and, under Goal, name the event type that counts as converted (for example "
                    "purchase) and within how many days of entering. It can be set while the journey runs."
                ).classes("text-sm text-slate-600").mark("goal-hint")
                ui.link("Open the editor", f"/journeys/{self.journey_id}").classes("text-sm")
            return
        days = goal["withinDays"]
        self.summary.set_text(f"{goal['eventType']} within {days} day{'s' if days != 1 else ''} of entering")
        with self.body:
            if not overall["n"]:
                ui.label("No data yet: nobody has entered the journey.").classes(
                    "text-sm text-slate-500").mark("goal-empty")
                return
            with ui.row().classes("items-baseline gap-2"):
                ui.label(percent(overall["rate"])).classes("text-3xl font-bold text-emerald-600").mark(
                    "goal-rate")
                ui.label(f"converted ({overall['conversions']:,} of {overall['n']:,} enrollments)").classes(
                    "text-sm text-slate-600")
            if overall["open"]:
                ui.label(f"{overall['open']:,} entered less than {days} days ago and may still convert: "
                         "rates can still rise.").classes("text-xs text-slate-500")
            for split in result["splits"]:
                self._split(split)
            self._paths(result["paths"])

    def _split(self, split: dict[str, Any]) -> None:
        verdict = split["verdict"]
        with ui.column().classes("w-full gap-1").mark(f"goal-split-{split['stepId']}"):
            title = f"Split: {split['stepName']}" + (" (removed)" if split["removed"] else "")
            ui.label(title).classes("text-sm font-semibold text-slate-600")
            colour = "text-emerald-700" if verdict["winner"] else "text-slate-600"
            ui.label(verdict["text"]).classes(f"text-base font-medium {colour}").props(
                "data-goal-verdict").mark("goal-verdict")
            with ui.row().classes("w-full gap-4 no-wrap items-start"):
                rows = [{"id": branch["label"], "branch": branch["label"], "n": f"{branch['n']:,}",
                         "conversions": f"{branch['conversions']:,}", "rate": percent(branch["rate"]),
                         "difference": "control" if index == 0 else difference_text(branch.get("difference"))}
                        for index, branch in enumerate(split["branches"])]
                columns = [column("branch", "Branch"), column("n", "Customers", "right"),
                           column("conversions", "Converted", "right"), column("rate", "Rate", "right"),
                           column("difference", f"vs {split['control']}")]
                ui.table(columns=columns, rows=rows, row_key="id").props("flat bordered dense hide-bottom") \
                    .classes("grow").mark("goal-branches")
                height = 40 + 32 * max(1, len(rows))
                ui.echart(goal_options(split)).classes("w-80").style(f"height: {height}px").props(
                    "data-goal-chart").mark("goal-chart")

    def _paths(self, paths: list[dict[str, Any]]) -> None:
        ui.label("By way of ending").classes("text-sm font-semibold text-slate-600")
        rows = [{"id": path["key"], "label": path["label"], "n": f"{path['n']:,}",
                 "conversions": f"{path['conversions']:,}", "rate": percent(path["rate"])} for path in paths]
        columns = [column("label", "Ended"), column("n", "Customers", "right"),
                   column("conversions", "Converted", "right"), column("rate", "Rate", "right")]
        ui.table(columns=columns, rows=rows, row_key="id").props("flat bordered dense hide-bottom").classes(
            "w-full").mark("goal-paths")
