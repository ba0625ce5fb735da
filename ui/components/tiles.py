"""A row of headline figures: a card each with icon, label, big number and a line of small print."""

from __future__ import annotations

from nicegui import ui

# (key, label, material icon, Tailwind text colour class)
TileSpec = tuple[str, str, str, str]


class Tiles:
    """Cards marked `tile-<key>` (the number, also `data-tile=<key>`) and `note-<key>` (the small print)."""

    def __init__(self, specs: list[TileSpec], *, min_width: int = 150) -> None:
        self.figures: dict[str, ui.label] = {}
        self.notes: dict[str, ui.label] = {}
        with ui.row().classes("w-full gap-4"):
            for key, label, icon, colour in specs:
                with ui.card().classes(f"grow min-w-[{min_width}px] p-4 gap-0"):
                    with ui.row().classes("items-center gap-2"):
                        ui.icon(icon).classes(f"{colour} text-xl")
                        ui.label(label).classes("text-sm text-slate-500")
                    figure = ui.label("0").classes(f"text-3xl font-bold {colour}").props(f"data-tile={key}")
                    self.figures[key] = figure.mark(f"tile-{key}")
                    note = ui.label().classes("text-xs text-slate-500 min-h-[1rem]")  # equal card heights
                    self.notes[key] = note.mark(f"note-{key}")

    def show(self, figures: dict[str, str], notes: dict[str, str] | None = None) -> None:
        for key, text in figures.items():
            self.figures[key].set_text(text)
        for key, text in (notes or {}).items():
            self.notes[key].set_text(text)
