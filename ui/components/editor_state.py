"""The editor's working copy of a journey: edits, undo/redo, and whether it is saved."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from engine.journeys.graph import ENTRY_ID
from engine.journeys.layout import layout, step_outputs
from engine.references import References
from ui.components.flow_model import TYPE_NAMES
from ui.components.step_panels import PANELS

EDITABLE = ("name", "description", "maxDuration", "entryConditions", "steps", "goal")
HISTORY_LIMIT = 200

Document = dict[str, Any]


class EditorState:
    """A journey document being edited. Every change goes through `change` so it can be undone."""

    def __init__(self, journey: dict[str, Any]) -> None:
        self.journey_id: str = journey["id"]
        self.status: str = journey["status"]
        self.version: int = journey["version"]
        # The revision this copy was loaded at or last saved as: a save only applies on top of it.
        self.revision: int = journey["revision"]
        # The goal is optional (a document without one has none).
        self.doc: Document = {key: copy.deepcopy(journey.get(key)) for key in EDITABLE}
        self.saved: Document = copy.deepcopy(self.doc)
        self._undo: list[Document] = []
        self._redo: list[Document] = []
        self._last_key: str | None = None

    # ---- history ------------------------------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        return self.doc != self.saved

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def change(self, apply: Callable[[Document], None], key: str | None = None) -> bool:
        """Apply an edit; consecutive edits with the same `key` (typing in one field) undo as one."""
        before = copy.deepcopy(self.doc)
        apply(self.doc)
        if self.doc == before:
            return False
        if key is None or key != self._last_key or not self._undo:
            self._undo.append(before)
            del self._undo[:-HISTORY_LIMIT]
        self._redo.clear()
        self._last_key = key
        return True

    def undo(self) -> bool:
        return self._travel(self._undo, self._redo)

    def redo(self) -> bool:
        return self._travel(self._redo, self._undo)

    def _travel(self, back: list[Document], forth: list[Document]) -> bool:
        """Restore the latest document of `back`, keeping the current one on `forth`."""
        if not back:
            return False
        forth.append(copy.deepcopy(self.doc))
        self.doc = back.pop()
        self._last_key = None
        return True

    def mark_saved(self, journey: dict[str, Any], sent: Document) -> None:
        """The server accepted `sent` (some editable fields) and now answers with `journey`."""
        self.status, self.version, self.revision = journey["status"], journey["version"], journey["revision"]
        self.saved.update(copy.deepcopy(sent))
        self._last_key = None

    # ---- queries ------------------------------------------------------------------------------------

    def step(self, step_id: str) -> dict[str, Any] | None:
        return next((step for step in self.doc["steps"] if step.get("id") == step_id), None)

    def step_ids(self) -> list[str]:
        return [step["id"] for step in self.doc["steps"]]

    # ---- edits --------------------------------------------------------------------------------------

    def add_step(self, kind: str, x: float, y: float, refs: Any = None) -> str:
        """A new step of `kind` at (x, y) with default config; returns its id."""
        taken = set(self.step_ids())
        number = 1
        while f"{kind}_{number}" in taken:
            number += 1
        step_id = f"{kind}_{number}"
        name = TYPE_NAMES.get(kind, kind.title()) + ("" if number == 1 else f" {number}")
        config = PANELS[kind].defaults(self.doc, refs or References())

        def apply(doc: Document) -> None:
            doc["steps"].append(
                {
                    "id": step_id,
                    "type": kind,
                    "name": name,
                    "config": config,
                    "position": {"x": round(x), "y": round(y)},
                }
            )

        self.change(apply)
        return step_id

    def connect(self, source: str, port: str, target: str) -> bool:
        """Point `source`'s output `port` at `target` (the Entry's output makes `target` the first step).

        Connecting into a fresh step that has nowhere to go yet inserts it: it takes over the old target.
        """
        if source == target or self.step(target) is None:
            return False
        if source == ENTRY_ID:
            return self.change(lambda doc: _move_first(doc, target))
        step = self.step(source)
        if step is None:
            return False
        old = next((output.target for output in step_outputs(step) if output.port == port), None)
        new = self.step(target)
        insert = (
            old
            and old != target
            and new is not None
            and not new.get("next")
            and step_outputs(new)
            and step_outputs(new)[0].port == "next"
            and not self._has_incoming(target)
        )

        def apply(doc: Document) -> None:
            _set_target(_find(doc, source), port, target)
            if insert:
                _find(doc, target)["next"] = old

        return self.change(apply)

    def disconnect(self, source: str, port: str) -> bool:
        if self.step(source) is None:
            return False
        return self.change(lambda doc: _set_target(_find(doc, source), port, None))

    def delete_steps(self, ids: list[str]) -> bool:
        """Remove steps and every reference to them."""
        doomed = set(ids)

        def apply(doc: Document) -> None:
            doc["steps"] = [step for step in doc["steps"] if step.get("id") not in doomed]
            for step in doc["steps"]:
                for output in step_outputs(step):
                    if output.target in doomed:
                        _set_target(step, output.port, None)
                if step.get("next") in doomed:
                    step.pop("next", None)

        return self.change(apply)

    def move(self, moves: list[dict[str, Any]]) -> bool:
        def apply(doc: Document) -> None:
            for move in moves:
                step = _find(doc, move["id"])
                if step is not None:
                    step["position"] = {"x": round(move["x"]), "y": round(move["y"])}

        return self.change(apply)

    def auto_layout(self) -> bool:
        positions = layout(self.doc["steps"])

        def apply(doc: Document) -> None:
            for step in doc["steps"]:
                if step.get("id") in positions:
                    step["position"] = positions[step["id"]]

        return self.change(apply)

    def place_unpositioned(self, *, storable: bool = True) -> bool:
        """Give steps without a position one from the auto-layout (not an undoable edit: nothing moved).

        True when it placed any: the positions are then worth saving. When they cannot be stored (a viewer,
        an archived journey) they count as saved, so nothing shows as unsaved for ever."""
        if all(step.get("position") for step in self.doc["steps"]):
            return False
        positions = layout(self.doc["steps"])
        documents = (self.doc, self.saved) if not storable else (self.doc,)
        for document in documents:
            for step in document["steps"]:
                if not step.get("position") and step.get("id") in positions:
                    step["position"] = positions[step["id"]]
        return storable

    def edit_step(
        self, step_id: str, apply: Callable[[dict[str, Any]], None], key: str | None = None
    ) -> bool:
        def edit(doc: Document) -> None:
            step = _find(doc, step_id)
            if step is not None:
                step.setdefault("config", {})
                apply(step)

        return self.change(edit, key)

    def edit_doc(self, field: str, value: Any) -> bool:
        return self.change(lambda doc: doc.__setitem__(field, value), key=f"doc:{field}")

    def edit_entry(self, field: str, value: Any) -> bool:
        def apply(doc: Document) -> None:
            entry = doc.setdefault("entryConditions", {})
            if value in (None, ""):
                entry.pop(field, None)
            else:
                entry[field] = value

        return self.change(apply, key=f"entry:{field}")

    def _has_incoming(self, step_id: str) -> bool:
        if self.doc["steps"] and self.doc["steps"][0].get("id") == step_id:
            return True
        return any(output.target == step_id for step in self.doc["steps"] for output in step_outputs(step))


def _find(doc: Document, step_id: str) -> dict[str, Any]:
    return next(step for step in doc["steps"] if step.get("id") == step_id)


def _move_first(doc: Document, step_id: str) -> None:
    step = _find(doc, step_id)
    doc["steps"].remove(step)
    doc["steps"].insert(0, step)


def _set_target(step: dict[str, Any], port: str, target: str | None) -> None:
    """Write an output's target; None removes it."""
    config = step.setdefault("config", {})
    if port == "next":
        holder, key = step, "next"
    elif port == "default":
        holder, key = config, "defaultStepId"
    elif port.startswith("cond:"):
        holder, key = config["conditions"][int(port[5:])], "targetStepId"
    elif port.startswith("path:"):
        holder, key = config["paths"][int(port[5:])], "targetStepId"
    else:
        return
    if target is None:
        holder.pop(key, None)
    else:
        holder[key] = target
