"""The flow canvas: our own Vue element drawing a journey as nodes and curved edges.

Editing mode emits (each `e.args` a dict): `step_drop` {type, x, y}; `nodes_moved` {moves: [{id, x, y}]};
`edge_connect` {source, port, target}; `edge_disconnect` {source, port}; `selection` {ids}; `steps_delete`
{ids}; `undo_request`, `redo_request`, `escape_key` (keyboard). Read-only mode (the monitor) only emits
`selection` and `escape_key`. (Names differ from DOM events such as drop/select, which would fire too.)

Counts (monitor): `counts` maps step id → {"current": n, "passed": m} (a bare int means current);
`edge_counts` maps (source, target) or "source->target" → n. With counts, every node shows an element
`data-count="current"` holding only the number and one `data-count="passed"`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nicegui import ui

from engine.references import References
from ui.components.flow_model import TYPE_NAMES, build_edges, build_nodes, edge_key
from ui.layout import STEP_STYLE

_CSS = Path(__file__).with_name("flow_canvas.css")


class FlowCanvas(ui.element, component="flow_canvas.js"):
    """A journey drawn as a graph; editable unless `readonly`."""

    def __init__(
        self,
        document: dict[str, Any],
        *,
        readonly: bool = False,
        counts: dict[str, Any] | None = None,
        edge_counts: dict[Any, int] | None = None,
        refs: References | None = None,
    ) -> None:
        super().__init__()
        # The names node summaries use for the ids a step points at (decision flows, channels, ...).
        self.refs = refs or References()
        ui.add_css(_CSS)
        self.props["readonly"] = readonly
        self.props["palette"] = [
            {"type": kind, "label": label, "icon": STEP_STYLE[kind][0], "color": STEP_STYLE[kind][1]}
            for kind, label in TYPE_NAMES.items()
        ]
        self.props["selected"] = []
        self.props["highlight"] = {"steps": [], "edges": []}
        self.props["counts"] = None
        self.props["edgeCounts"] = {}
        self.set_document(document)
        if counts is not None or edge_counts is not None:
            self.set_counts(counts or {}, edge_counts or {})
        self.classes("w-full")

    def set_document(self, document: dict[str, Any], issues: list[dict[str, Any]] | None = None) -> None:
        """Redraw from a (possibly unsaved) document with its validation issues."""
        self.props["nodes"] = build_nodes(document, issues, self.refs)
        self.props["edges"] = build_edges(document)

    def set_readonly(self, readonly: bool) -> None:
        self.props["readonly"] = readonly

    def set_counts(self, counts: dict[str, Any], edge_counts: dict[Any, int] | None = None) -> None:
        """Show live figures on the nodes and edges."""
        normal: dict[str, dict[str, int]] = {}
        for step_id, value in counts.items():
            if isinstance(value, dict):
                current, passed = value.get("current"), value.get("passed")
                normal[step_id] = {"current": int(current or 0), "passed": int(passed or 0)}
            else:
                normal[step_id] = {"current": int(value or 0), "passed": 0}
        edges = {}
        for key, value in (edge_counts or {}).items():
            edges[edge_key(*key) if isinstance(key, tuple) else str(key)] = int(value or 0)
        self.props["counts"] = normal
        self.props["edgeCounts"] = edges

    def select(self, ids: list[str]) -> None:
        """Select these steps (the canvas scrolls the first into view)."""
        self.props["selected"] = list(ids)

    @property
    def selected(self) -> list[str]:
        return list(self.props["selected"])

    def highlight(self, steps: list[str], edges: list[tuple[str, str]]) -> None:
        """Mark a path (the test run's): these steps and the edges between them."""
        self.props["highlight"] = {"steps": list(steps), "edges": [edge_key(a, b) for a, b in edges]}

    def fit(self, readable: bool = False) -> None:
        """Zoom and pan so every node is visible; `readable` stops at a legible zoom (0.8) and then starts at
        the Entry."""
        self.run_method("fit", readable)
