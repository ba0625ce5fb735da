"""Enrolling customers into a journey from the UI: the "Enroll" toolbar action (editor and monitor) and its
dialog. Pick customers by searching, a whole segment, or paste / upload ids; the answer says how many
enrolled and why the others were skipped. The engine (engine.runtime.bulk_entry) does the enrolling.

The action is disabled, saying why in its tooltip, for a role that may not enroll and while the journey
is not active (draft: activate first; paused: resume first).
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from nicegui import events, run, ui

from engine.access import roles
from engine.audience import customer_search, segments
from engine.engine import Engine
from engine.errors import Invalid, JourneysError
from engine.journeys import lifecycle
from engine.runtime import bulk_entry
from ui import session
from ui.components.dialogs import dialog_actions
from ui.components.paged_table import column, problem

# What a skip reason from the engine means, said to a marketer.
SKIP_REASONS = {
    "already_active": "already in this journey",
    "already_enrolled": "were in this journey before (it takes no one twice)",
    "cooldown": "entered too recently (re-entry cooldown)",
    "duplicate": "listed more than once",
    "unknown_customer": "no such customer",
    "journey_not_active": "not tried: the journey stopped taking customers",
    "journey_has_no_steps": "the journey has no steps",
}
WAYS = [("search", "Search customers", "search"), ("segment", "A segment", "groups"),
        ("ids", "Paste or upload ids", "content_paste")]
ID_COLUMNS = ("id", "customerid", "customer_id", "customer")
MAX_IDS = 100_000
SHOWN_SKIPS = 10


def role_refusal() -> str | None:
    """Why the signed-in person may not enroll customers (None when they may)."""
    actor = session.signed_in()
    if actor is None or roles.allows(actor.role, "editor"):
        return None
    refusal = roles.refusal(actor.role, "editor", "enroll customers")
    return refusal[:1].upper() + refusal[1:] + "."


def why_not(status: str | None) -> str | None:
    """Why the Enroll action is off now: the role first, then the journey's status."""
    return role_refusal() or bulk_entry.enroll_refusal(status or "")


def skip_reason(reason: str) -> str:
    return SKIP_REASONS.get(reason, reason.replace("_", " "))


def outcome_lines(answer: dict[str, Any]) -> list[str]:
    """The engine's enrollment answer in sentences: enrolled, then skipped by reason, then the first ids."""
    enrolled = answer["enrolled"]
    lines = [f"Enrolled {enrolled:,} customer{'' if enrolled == 1 else 's'}."]
    if answer.get("segment") and not answer["considered"]:
        lines[0] = f"The segment {answer['segment']['name']} has no members: no one enrolled."
    skipped = answer["skipped"]
    if skipped:
        reasons = "; ".join(f"{count:,} {skip_reason(reason)}"
                            for reason, count in answer["skippedByReason"].items())
        lines.append(f"Skipped {skipped:,}: {reasons}.")
        listed = answer["skippedCustomers"][:SHOWN_SKIPS]
        more = skipped - len(listed)
        lines.append(", ".join(f"{item['customerId']} ({skip_reason(item['reason'])})" for item in listed)
                     + (f" and {more:,} more" if more > 0 else ""))
    if answer.get("stopped"):
        lines.append(f"Stopped: {answer['stopped']}")
    return lines


def parse_ids(text: str) -> list[str]:
    """Customer ids from pasted text or an uploaded file: separated by new lines, commas, semicolons, tabs or
    spaces; a CSV whose header row names an id column (id, customerId, customer_id) gives that column."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    header = [cell.strip().strip('"').lower() for cell in re.split(r"[,;\t]", lines[0])]
    found = next((name for name in ID_COLUMNS if name in header), None)
    if found is not None and len(header) > 1:
        delimiter = max(",;\t", key=lines[0].count)
        rows = csv.reader(io.StringIO("\n".join(lines[1:])), delimiter=delimiter)
        index = header.index(found)
        ids = [row[index].strip() for row in rows if len(row) > index and row[index].strip()]
    else:
        start = 1 if found is not None else 0  # a one-column file with an "id" header
        tokens = re.split(r"[\s,;]+", "\n".join(lines[start:]))
        ids = [token.strip("\"'") for token in tokens if token.strip("\"'")]
    if len(ids) > MAX_IDS:
        raise Invalid(f"at most {MAX_IDS:,} ids at once", field="customerIds")
    return ids


class EnrollAction:
    """The "Enroll" button for one journey; its state follows `getattr(source, attribute)` (the journey's
    status as the page knows it) and it opens the enroll dialog."""

    def __init__(self, engine: Engine, journey_id: str, source: Any, attribute: str) -> None:
        self.engine = engine
        self.journey_id = journey_id
        # A disabled button shows no tooltip of its own: the wrapper carries the reason.
        with ui.element("div").classes("inline-block") as wrapper:
            self.button = ui.button("Enroll", icon="group_add", on_click=self.open).props(
                "flat dense no-caps data-enroll").mark("enroll")
            self.tip = ui.tooltip().mark("enroll-tooltip")
        self.wrapper = wrapper
        self.button.bind_enabled_from(source, attribute, backward=lambda status: why_not(status) is None)
        self.tip.bind_text_from(source, attribute, backward=lambda status: why_not(status)
                                or "Enroll customers: search, a segment, or a list of ids")
        self.dialog: EnrollDialog | None = None

    async def open(self) -> None:
        if self.dialog is None:
            self.dialog = EnrollDialog(self.engine, self.journey_id)
        await self.dialog.open()


class EnrollDialog:
    """Pick customers three ways and enroll them; shows the engine's answer in sentences."""

    def __init__(self, engine: Engine, journey_id: str) -> None:
        self.engine = engine
        self.journey_id = journey_id
        self.picked: dict[str, str] = {}  # id -> label, kept across searches
        self.uploaded: list[str] = []
        self.search_round = 0
        with ui.dialog() as self.dialog, ui.card().classes("w-[44rem] max-w-full gap-3").props(
                "data-enroll-dialog"):
            self.title = ui.label("Enroll customers").classes("text-lg font-semibold").mark("enroll-title")
            self.notice = ui.label().classes("text-sm text-negative").mark("enroll-notice")
            with ui.tabs().classes("w-full").props("no-caps align=left dense") as self.tabs:
                for name, label, icon in WAYS:
                    ui.tab(name, label, icon=icon).props(f"data-enroll-tab={name}").mark(f"enroll-tab-{name}")
            self.tabs.mark("enroll-tabs")
            with ui.tab_panels(self.tabs, value="search").classes("w-full").props("animated=false"):
                with ui.tab_panel("search").classes("p-0 gap-2"):
                    self._search_panel()
                with ui.tab_panel("segment").classes("p-0 gap-2"):
                    self._segment_panel()
                with ui.tab_panel("ids").classes("p-0 gap-2"):
                    self._ids_panel()
            self.result = ui.column().classes("w-full gap-1").props("data-enroll-result")
            self.result.mark("enroll-result")
            self.submit = dialog_actions(self.dialog, "Enroll", self.enroll, "enroll-submit", dismiss="Close",
                                         icon="group_add").props("data-enroll-submit")

    # ---- the three ways to pick -------------------------------------------------------------------------

    def _search_panel(self) -> None:
        self.query = ui.input("Search by id, e-mail or name", on_change=self.search).props(
            "dense outlined clearable debounce=250 data-enroll-search").classes("w-full")
        self.query.mark("enroll-search")
        columns = [column("id", "Id"), column("name", "Name"), column("email", "E-mail")]
        self.results = ui.table(columns=columns, rows=[], row_key="id", selection="multiple",
                                on_select=self._on_select)
        self.results.props("flat dense bordered hide-bottom data-enroll-results").classes("w-full max-h-64")
        self.results.mark("enroll-results")
        self.more = ui.label().classes("text-xs text-slate-500")
        self.chips = ui.row().classes("w-full gap-1").mark("enroll-picked")

    def _segment_panel(self) -> None:
        self.segment = ui.select({}, label="Segment", with_input=True).props(
            "dense outlined data-enroll-segment").classes("w-full").mark("enroll-segment")
        ui.label("Every member of the segment now is enrolled (the re-entry rule still applies).").classes(
            "text-xs text-slate-500")

    def _ids_panel(self) -> None:
        self.pasted = ui.textarea("Customer ids, one per line (or separated by commas)").props(
            "dense outlined data-enroll-ids").classes("w-full").mark("enroll-ids")
        upload = ui.upload(label="…or a CSV or text file (a CSV needs an id column)", auto_upload=True,
                           on_upload=self._on_upload)
        upload.props("accept=.csv,.txt,text/plain,text/csv flat bordered").classes("w-full")
        upload.mark("enroll-upload")
        self.upload_note = ui.label().classes("text-sm").mark("enroll-upload-note")

    # ---- behaviour -------------------------------------------------------------------------------------

    async def open(self) -> None:
        """Read the journey and the segments afresh (off the event loop) and show the dialog."""
        self.result.clear()
        self.dialog.open()
        try:
            journey, segment_page = await run.io_bound(_journey_and_segments, self.engine, self.journey_id)
        except JourneysError as error:
            self.notice.text = problem(error)
            self.submit.disable()
            return
        if journey is None:  # the app is stopping
            return
        self.title.text = f"Enroll customers into {journey.name}"
        refusal = why_not(journey.status)
        self.notice.text = refusal or ""
        self.notice.set_visibility(bool(refusal))
        self.submit.set_enabled(refusal is None)
        self.segment.options = {item["id"]: f"{item['name']} ({item['memberCount']:,} members)"
                                for item in segment_page["data"]}
        self.segment.update()
        await self.search()

    async def search(self) -> None:
        self.search_round += 1
        round_ = self.search_round
        found = await run.io_bound(customer_search.find_customers, self.engine, self.query.value or "")
        if found is None or round_ != self.search_round:
            return  # the app is stopping, or a newer search is under way
        rows = [{**item, "name": item["name"] or "—", "email": item["email"] or "—"}
                for item in found["data"]]
        self.results.rows = rows
        self.results.selected = [row for row in rows if row["id"] in self.picked]
        self.results.update()
        self.more.text = "More match: refine the search." if found["hasMore"] else ""

    def _on_select(self, _event: Any) -> None:
        chosen = {row["id"] for row in self.results.selected}
        for row in self.results.rows:
            if row["id"] in chosen:
                self.picked[row["id"]] = row["id"] if row["name"] == "—" else f"{row['name']} ({row['id']})"
            else:
                self.picked.pop(row["id"], None)
        self._show_picked()

    def _show_picked(self) -> None:
        self.chips.clear()
        with self.chips:
            if self.picked:
                ui.label(f"{len(self.picked)} selected:").classes("text-sm")
            for customer_id, label in self.picked.items():
                ui.chip(label, removable=True, on_value_change=lambda _e, cid=customer_id: self._unpick(cid)
                        ).props("dense outline")

    def _unpick(self, customer_id: str) -> None:
        self.picked.pop(customer_id, None)
        self.results.selected = [row for row in self.results.rows if row["id"] in self.picked]
        self._show_picked()

    async def _on_upload(self, event: events.UploadEventArguments) -> None:
        try:
            self.uploaded = parse_ids(await event.file.text())
        except (Invalid, UnicodeDecodeError) as error:
            self.uploaded = []
            self.upload_note.text = f"{event.file.name}: {problem(error)}"
            return
        self.upload_note.text = f"{event.file.name}: {len(self.uploaded):,} ids"

    async def enroll(self) -> None:
        way = self.tabs.value or "search"
        try:
            if way == "segment":
                if not self.segment.value:
                    raise Invalid("pick a segment", field="segmentId")
                answer = await run.io_bound(
                    bulk_entry.enroll_segment, self.engine, self.journey_id, self.segment.value)
            else:
                ids = (list(self.picked) if way == "search"
                       else parse_ids(self.pasted.value or "") + self.uploaded)
                if not ids:
                    raise Invalid("pick at least one customer" if way == "search"
                                  else "paste or upload at least one customer id", field="customerIds")
                answer = await run.io_bound(bulk_entry.enroll_customers, self.engine, self.journey_id, ids)
        except JourneysError as error:
            self._show([problem(error)], failed=True)
            return
        if answer is None:  # the app is stopping
            return
        self._show(outcome_lines(answer), failed=False)
        if way == "search":
            self.picked.clear()
            self.results.selected = []
            self._show_picked()

    def _show(self, lines: list[str], *, failed: bool) -> None:
        self.result.clear()
        with self.result:
            for index, line in enumerate(lines):
                style = "text-negative" if failed else ("font-semibold text-positive" if index == 0 else "")
                label = ui.label(line).classes(f"text-sm {style}")
                label.mark("enroll-outcome" if index == 0 else "enroll-detail")
                if index == 0:
                    label.props("data-enroll-outcome")


def _journey_and_segments(engine: Engine, journey_id: str) -> tuple[Any, dict[str, Any]]:
    """The journey and the first segments by name (runs in a worker thread)."""
    return lifecycle.get_journey(engine, journey_id), segments.list_segments(engine, limit=200)
