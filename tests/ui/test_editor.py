"""The journey editor under NiceGUI's simulated user: panels, validation display, lifecycle, undo/redo."""

from __future__ import annotations

from typing import Any

from nicegui.testing import User

from engine import journeys
from models.journey import JourneyCreate
from ui.components.flow_canvas import FlowCanvas

STEPS = [
    {
        "id": "wait",
        "type": "wait",
        "name": "Pause",
        "config": {"duration": 3, "unit": "days"},
        "next": "bye",
        "position": {"x": 340, "y": 80},
    },
    {
        "id": "bye",
        "type": "exit",
        "name": "Bye",
        "config": {"reason": "done"},
        "position": {"x": 640, "y": 80},
    },
]


def make_journey(steps: list[dict[str, Any]] | None = None, name: str = "Welcome") -> str:
    return journeys.create_journey(JourneyCreate.model_validate({"name": name, "steps": steps or STEPS})).id


def canvas_of(user: User) -> FlowCanvas:
    return next(iter(user.find(marker="canvas").elements))  # type: ignore[return-value]


async def open_editor(user: User, journey_id: str) -> FlowCanvas:
    await user.open(f"/journeys/{journey_id}")
    return canvas_of(user)


def node(canvas: FlowCanvas, step_id: str) -> dict[str, Any]:
    return next(n for n in canvas.props["nodes"] if n["id"] == step_id)


async def test_editor_draws_entry_and_steps_with_summaries(user: User) -> None:
    canvas = await open_editor(user, make_journey())
    ids = [n["id"] for n in canvas.props["nodes"]]
    assert ids == ["__entry__", "wait", "bye"]
    assert node(canvas, "wait")["summary"] == "3 days"
    assert {(e["source"], e["target"]) for e in canvas.props["edges"]} == {
        ("__entry__", "wait"),
        ("wait", "bye"),
    }
    await user.should_see("All changes saved")
