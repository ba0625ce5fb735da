"""Server-side paged tables and the one-line error notice every list page shows for a rejected action."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import run, ui
from pydantic import ValidationError

from engine.errors import JourneysError

# (limit, offset) -> the engine's envelope: {"data": [...], "pagination": {"total": n, ...}}
Fetch = Callable[[int, int], dict[str, Any]]


def column(name: str, label: str, align: str = "left", **extra: str) -> dict[str, Any]:
    """A ui.table column whose field is its name."""
    return {"name": name, "label": label, "field": name, "align": align, **extra}


def when(moment: str | None, empty: str = "—", *, seconds: bool = True) -> str:
    """An ISO timestamp (…Z) as tables show it: 'YYYY-MM-DD HH:MM[:SS]', UTC."""
    return moment[: 19 if seconds else 16].replace("T", " ") if moment else empty


def problem(error: Exception) -> str:
    """A one-line reason: the first field error of a rejected form, or the engine's message."""
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        return f"{field}: {first['msg']}" if field else first["msg"]
    if isinstance(error, JourneysError):
        return error.message
    return str(error)


def notify_problem(error: Exception, kind: str = "negative") -> None:
    ui.notify(problem(error), type=kind, multi_line=True)


class PagedTable:
    """A table showing one page of an engine list, with "N things" and a pager below it, and a note under
    its header when there is nothing to show ("No things yet.", or `empty`: a text, or a function giving
    one, e.g. to say that nothing matches the filters).

    `fetch(limit, offset)` returns the engine envelope; `row` turns one item into a table row. `reload`
    reads at once (sync handlers); `refresh` reads off the event loop (async handlers, pager, live updates).
    """

    def __init__(
        self,
        columns: list[dict[str, Any]],
        fetch: Fetch,
        *,
        noun: tuple[str, str] = ("row", "rows"),
        row: Callable[[dict[str, Any]], dict[str, Any]] = dict,
        row_key: str = "id",
        page_size: int = 25,
        empty: str | Callable[[], str] | None = None,
    ) -> None:
        self.fetch, self.row, self.noun, self.page_size = fetch, row, noun, page_size
        self.page = 1
        self.empty_text = empty if empty is not None else f"No {noun[1]} yet."
        self.table = ui.table(columns=columns, rows=[], row_key=row_key).props(
            "flat bordered hide-bottom hide-no-data")
        self.table.classes("w-full")
        self.empty = ui.label().classes("w-full text-sm text-slate-500 px-3 py-4 text-center border rounded")
        self.empty.mark("table-empty").set_visibility(False)
        with ui.row().classes("w-full items-center"):
            self.total = ui.label().classes("text-sm text-slate-500")
            ui.space()
            self.pager = ui.pagination(1, 1, direction_links=True, on_change=self._on_page)
            self.pager.props("max-pages=7 boundary-numbers")  # 50,000 pages must not mean 50,000 buttons

    def reload(self, first_page: bool = False) -> None:
        """Read the current page now (a rejected filter is explained, the table stays as it was)."""
        if first_page:
            self.page = 1
        try:
            self.show(self._read())
        except JourneysError as error:
            notify_problem(error)

    async def refresh(self, first_page: bool = False) -> None:
        """Read the current page off the event loop; skipped when the app or the tab went away."""
        if first_page:
            self.page = 1
        try:
            envelope = await run.io_bound(self._read)
        except JourneysError as error:
            if not self.table.is_deleted:
                notify_problem(error)
            return
        if envelope is not None and not self.table.is_deleted:  # None: the app is shutting down
            self.show(envelope)

    def _read(self) -> dict[str, Any]:
        return self.fetch(self.page_size, (self.page - 1) * self.page_size)

    def show(self, envelope: dict[str, Any]) -> None:
        self.table.rows = [self.row(item) for item in envelope["data"]]
        total = envelope["pagination"]["total"]
        # The table stays (pages and tests find it by its marker); the note replaces Quasar's "No data".
        self.empty.set_visibility(not total)
        self.empty.text = self.empty_text if isinstance(self.empty_text, str) else self.empty_text()
        self.total.text = f"{total:,} {self.noun[0] if total == 1 else self.noun[1]}"
        self.pager.max = max(1, -(-total // self.page_size))
        self.pager.value = self.page

    async def _on_page(self, event: Any) -> None:
        page = int(event.value or 1)
        if page == self.page:
            return
        self.page = page
        await self.refresh()
