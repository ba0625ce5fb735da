"""The journey editor under NiceGUI's simulated user: panels, validation display, lifecycle, undo/redo."""

from __future__ import annotations

from typing import Any

from nicegui import ui
from nicegui.testing import User

from engine import demo
from engine.engine import Engine
from engine.journeys import lifecycle
from engine.references import catalog
from models.journey import JourneyCreate
from tests.ui.kit import eventually
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


def make_journey(engine: Engine, steps: list[dict[str, Any]] | None = None, name: str = "Welcome") -> str:
    document = {"name": name, "steps": steps or STEPS}
    return lifecycle.create_journey(engine, JourneyCreate.model_validate(document)).id


def canvas_of(user: User) -> FlowCanvas:
    return next(iter(user.find(marker="canvas").elements))  # type: ignore[return-value]


async def open_editor(user: User, journey_id: str) -> FlowCanvas:
    await user.open(f"/journeys/{journey_id}")
    return canvas_of(user)


def node(canvas: FlowCanvas, step_id: str) -> dict[str, Any]:
    return next(n for n in canvas.props["nodes"] if n["id"] == step_id)


async def test_editor_draws_entry_and_steps_with_summaries(engine: Engine, user: User) -> None:
    canvas = await open_editor(user, make_journey(engine))
    ids = [n["id"] for n in canvas.props["nodes"]]
    assert ids == ["__entry__", "wait", "bye"]
    assert node(canvas, "wait")["summary"] == "3 days"
    assert {(e["source"], e["target"]) for e in canvas.props["edges"]} == {
        ("__entry__", "wait"),
        ("wait", "bye"),
    }
    await user.should_see("All changes saved")


BRANCHY = [
    {
        "id": "route",
        "type": "branch",
        "name": "Route",
        "position": {"x": 340, "y": 80},
        "config": {
            "conditions": [{"label": "DE", "expression": "customer.country == 'DE'", "targetStepId": "bye"}],
            "defaultStepId": "bye",
        },
    },
    {
        "id": "bye",
        "type": "exit",
        "name": "Bye",
        "config": {"reason": "done"},
        "position": {"x": 640, "y": 80},
    },
]
UNREACHABLE = [
    *STEPS,
    {
        "id": "lost",
        "type": "wait",
        "name": "Lost",
        "config": {"duration": 1, "unit": "days"},
        "position": {"x": 640, "y": 300},
    },
]


def value_of(user: User, marker: str) -> Any:
    return next(iter(user.find(marker=marker).elements)).value


def set_value(user: User, marker: str, value: Any) -> None:
    with user.client:
        for element in user.find(marker=marker).elements:
            element.value = value


async def test_dropping_a_palette_step_creates_it_there_and_opens_its_panel(
    engine: Engine, user: User
) -> None:
    canvas = await open_editor(user, make_journey(engine))
    user.find(marker="canvas").trigger("step_drop", {"type": "wait", "x": 500, "y": 320})
    new = node(canvas, "wait_1")
    assert (new["x"], new["y"]) == (500, 320)
    assert new["summary"] == "1 day"
    assert canvas.props["selected"] == ["wait_1"]
    await user.should_see(marker="wait-duration")
    await user.should_see("Unsaved changes")


async def test_wait_panel_sets_the_duration_and_save_stores_it(engine: Engine, user: User) -> None:
    journey_id = make_journey(engine)
    canvas = await open_editor(user, journey_id)
    user.find(marker="canvas").trigger("selection", {"ids": ["wait"]})
    set_value(user, "wait-duration", 2)
    set_value(user, "wait-unit", "hours")
    assert node(canvas, "wait")["summary"] == "2 hours"
    user.find(marker="save").click()
    await user.should_see("All changes saved")  # saved off the event loop
    saved = lifecycle.get_journey(engine, journey_id).steps[0]
    assert saved["config"] == {"duration": 2, "unit": "hours"}
    await user.should_see("All changes saved")


async def test_condition_builder_rows_write_cel_and_raw_cel_gets_syntax_feedback(
    engine: Engine, user: User
) -> None:
    journey_id = make_journey(engine, BRANCHY)
    await open_editor(user, journey_id)
    user.find(marker="canvas").trigger("selection", {"ids": ["route"]})
    assert value_of(user, "condition-0-row-0-attribute") == "customer.country"
    set_value(user, "condition-0-row-0-value", "FR")
    set_value(user, "condition-0-row-0-operator", "!=")
    set_value(user, "condition-0-mode", "cel")  # the raw CEL behind the builder's switch
    assert value_of(user, "condition-0-cel") == "customer.country != 'FR'"
    await user.should_see("✓ valid CEL")
    set_value(user, "condition-0-cel", "customer.country ==")
    feedback = next(iter(user.find(marker="condition-0-cel-feedback").elements)).text
    assert feedback.startswith("✗")
    user.find(marker="save").click()
    await user.should_see("All changes saved")  # saved off the event loop
    condition = lifecycle.get_journey(engine, journey_id).steps[0]["config"]["conditions"][0]
    assert condition["expression"] == "customer.country =="


async def test_validation_errors_show_on_nodes_and_in_the_list_and_block_activation(
    engine: Engine, user: User
) -> None:
    canvas = await open_editor(user, make_journey(engine, UNREACHABLE))
    await eventually(lambda: bool(node(canvas, "lost")["errors"]))  # the unreachable step carries a badge
    assert not node(canvas, "wait")["errors"]
    await user.should_see(marker="issue-item")
    await user.should_see("Cannot activate: 1 error to fix")
    activate = next(iter(user.find(marker="activate").elements))
    assert not activate.enabled
    user.find(marker="issue-lost").click()
    assert canvas.props["selected"] == ["lost"]
    await user.should_see(marker="wait-duration")


async def test_connecting_the_lost_step_clears_the_error_and_activation_locks_the_structure(
    engine: Engine, user: User,
) -> None:
    journey_id = make_journey(engine, UNREACHABLE)
    canvas = await open_editor(user, journey_id)
    user.find(marker="canvas").trigger("edge_connect", {"source": "wait", "port": "next", "target": "lost"})
    # Not saved yet: autosave comes later.
    assert lifecycle.get_journey(engine, journey_id).steps[0]["next"] == "bye"
    await eventually(lambda: not node(canvas, "lost")["errors"])
    await user.should_see("0 errors")
    user.find(marker="activate").click()
    await eventually(lambda: lifecycle.get_journey(engine, journey_id).status == "active")
    await eventually(lambda: canvas.props["readonly"] is True)
    await user.should_see(marker="locked-banner")
    user.find(marker="canvas").trigger("step_drop", {"type": "wait", "x": 10, "y": 10})
    assert [n["id"] for n in canvas.props["nodes"]] == ["__entry__", "wait", "bye", "lost"]
    steps = {step["id"]: step for step in lifecycle.get_journey(engine, journey_id).steps}
    assert (steps["wait"]["next"], steps["lost"]["next"]) == ("lost", "bye")  # saved before activating
    user.find(marker="pause").click()
    await eventually(lambda: lifecycle.get_journey(engine, journey_id).status == "paused")
    await eventually(lambda: canvas.props["readonly"] is False)
    await user.should_see(marker="resume")
    user.find(marker="resume").click()
    await eventually(lambda: lifecycle.get_journey(engine, journey_id).status == "active")


async def test_active_journey_keeps_name_editable_but_not_its_structure(engine: Engine, user: User) -> None:
    journey_id = make_journey(engine)
    lifecycle.change_status(engine, journey_id, "active")
    await open_editor(user, journey_id)
    user.find(marker="open-settings").click()
    assert not next(iter(user.find(marker="journey-max-duration").elements)).enabled
    user.find(marker="canvas").trigger("selection", {"ids": ["wait"]})
    assert not next(iter(user.find(marker="wait-duration").elements)).enabled
    user.find(marker="open-settings").click()
    set_value(user, "journey-name", "Renamed live")
    user.find(marker="save").click()
    await user.should_see("All changes saved")  # saved off the event loop
    assert lifecycle.get_journey(engine, journey_id).name == "Renamed live"
    await user.should_see("Renamed live")


async def test_undo_and_redo_from_toolbar_and_keyboard(engine: Engine, user: User) -> None:
    canvas = await open_editor(user, make_journey(engine))
    user.find(marker="canvas").trigger("step_drop", {"type": "send", "x": 400, "y": 300})
    user.find(marker="canvas").trigger("nodes_moved", {"moves": [{"id": "bye", "x": 900, "y": 90}]})
    assert node(canvas, "bye")["x"] == 900
    user.find(marker="undo").click()
    assert node(canvas, "bye")["x"] == 640
    user.find(marker="canvas").trigger("undo_request")
    assert "send_1" not in [n["id"] for n in canvas.props["nodes"]]
    user.find(marker="canvas").trigger("redo_request")
    assert "send_1" in [n["id"] for n in canvas.props["nodes"]]
    user.find(marker="redo").click()
    assert node(canvas, "bye")["x"] == 900


async def test_typing_in_one_field_undoes_as_one_step(engine: Engine, user: User) -> None:
    canvas = await open_editor(user, make_journey(engine))
    user.find(marker="canvas").trigger("selection", {"ids": ["wait"]})
    for text in ("P", "Pa", "Par", "Park"):
        set_value(user, "step-name", text)
    assert node(canvas, "wait")["name"] == "Park"
    user.find(marker="undo").click()
    assert node(canvas, "wait")["name"] == "Pause"


async def test_deleting_a_step_removes_it_and_its_incoming_edges(engine: Engine, user: User) -> None:
    canvas = await open_editor(user, make_journey(engine))
    user.find(marker="canvas").trigger("steps_delete", {"ids": ["bye"]})
    assert [n["id"] for n in canvas.props["nodes"]] == ["__entry__", "wait"]
    assert {(e["source"], e["target"]) for e in canvas.props["edges"]} == {("__entry__", "wait")}


async def test_escape_closes_the_panel_and_entry_opens_settings(engine: Engine, user: User) -> None:
    canvas = await open_editor(user, make_journey(engine))
    user.find(marker="canvas").trigger("selection", {"ids": ["__entry__"]})
    await user.should_see(marker="entry-segment")
    user.find(marker="canvas").trigger("escape_key")
    await user.should_not_see(marker="entry-segment")
    assert canvas.props["selected"] == []


async def test_settings_panel_writes_entry_conditions_with_cel_feedback(engine: Engine, user: User) -> None:
    journey_id = make_journey(engine)
    canvas = await open_editor(user, journey_id)
    user.find(marker="open-settings").click()
    set_value(user, "entry-event", "signup")
    set_value(user, "entry-condition", "event.plan == 'pro'")
    await user.should_see("✓ valid CEL")
    set_value(user, "entry-reentry", "never")
    assert node(canvas, "__entry__")["summary"] == "event signup (if …)"
    user.find(marker="save").click()
    await user.should_see("All changes saved")  # saved off the event loop
    entry = lifecycle.get_journey(engine, journey_id).entry_conditions
    assert (entry["eventType"], entry["condition"], entry["reentry"]) == (
        "signup",
        "event.plan == 'pro'",
        "never",
    )


async def test_auto_layout_places_steps_left_to_right_from_the_entry(engine: Engine, user: User) -> None:
    scrambled = [{**step, "position": {"x": 900 - 300 * i, "y": 500}} for i, step in enumerate(STEPS)]
    canvas = await open_editor(user, make_journey(engine, scrambled))
    user.find(marker="auto-layout").click()
    assert node(canvas, "__entry__")["x"] < node(canvas, "wait")["x"] < node(canvas, "bye")["x"]


async def test_unknown_journey_says_so(user: User) -> None:
    await user.open("/journeys/jrn_nope")
    await user.should_see("There is no journey 'jrn_nope'.")


async def test_flow_canvas_shows_counts_read_only_for_the_monitor(user: User) -> None:
    document = {"entryConditions": {}, "steps": STEPS}

    @ui.page("/canvas-counts")
    def page() -> None:
        FlowCanvas(
            document,
            readonly=True,
            counts={"wait": {"current": 7, "passed": 9}, "bye": 2},
            edge_counts={("wait", "bye"): 9},
        ).mark("counts-canvas")

    await user.open("/canvas-counts")
    canvas = next(iter(user.find(marker="counts-canvas").elements))
    assert canvas.props["readonly"] is True
    assert canvas.props["counts"] == {"wait": {"current": 7, "passed": 9}, "bye": {"current": 2, "passed": 0}}
    assert canvas.props["edgeCounts"] == {"wait->bye": 9}
    with user.client:
        canvas.set_counts({"wait": {"current": 1, "passed": 12}}, {"wait->bye": 11})
    assert canvas.props["counts"]["wait"] == {"current": 1, "passed": 12}
    assert canvas.props["edgeCounts"] == {"wait->bye": 11}


async def test_test_run_highlights_the_simulated_path_and_lists_the_trace(engine: Engine, user: User) -> None:
    canvas = await open_editor(user, make_journey(engine))
    user.find(marker="open-test").click()
    user.find(marker="test-run").click()
    await user.should_see(marker="test-ended")
    ended = next(iter(user.find(marker="test-ended").elements)).text
    assert ended == "Reached Exit 'Bye'"
    assert canvas.props["highlight"] == {"steps": ["wait", "bye"], "edges": ["__entry__->wait", "wait->bye"]}
    set_value(user, "test-attributes", "[1, 2]")
    user.find(marker="test-run").click()
    await user.should_see("Attributes: expected a JSON object")
    assert canvas.props["highlight"]["steps"] == []


def options_of(user: User, marker: str) -> dict[str, str]:
    return next(iter(user.find(marker=marker).elements)).options  # type: ignore[attr-defined]


CONFIGURABLE = [
    {
        "id": "pick",
        "type": "decide",
        "name": "Pick",
        "next": "tell",
        "position": {"x": 340, "y": 80},
        "config": {"maxOffers": 1, "storeResultAs": "best"},
    },
    {
        "id": "tell",
        "type": "send",
        "name": "Tell",
        "next": "mark",
        "position": {"x": 640, "y": 80},
        "config": {},
    },
    {
        "id": "mark",
        "type": "update",
        "name": "Mark",
        "next": "ab",
        "position": {"x": 940, "y": 80},
        "config": {"operations": []},
    },
    {
        "id": "ab",
        "type": "split",
        "name": "AB",
        "position": {"x": 1240, "y": 80},
        "config": {
            "paths": [{"label": "A", "percent": 50, "targetStepId": "bye"}, {"label": "B", "percent": 30}]
        },
    },
    {
        "id": "bye",
        "type": "exit",
        "name": "Bye",
        "config": {"reason": "done"},
        "position": {"x": 1540, "y": 80},
    },
]


async def test_decide_and_send_panels_offer_the_catalog(engine: Engine, user: User) -> None:
    demo.seed_if_empty(engine)
    journey_id = make_journey(engine, CONFIGURABLE)
    canvas = await open_editor(user, journey_id)
    user.find(marker="canvas").trigger("selection", {"ids": ["pick"]})
    flows = options_of(user, "decide-flow")
    assert flows, "decision flows come from the catalog"
    flow = next(iter(flows))
    set_value(user, "decide-flow", flow)
    set_value(user, "decide-max", 3)
    names = catalog(engine)
    assert node(canvas, "pick")["summary"] == f"{names.decision_flows[flow]} → 3 offers"
    user.find(marker="canvas").trigger("selection", {"ids": ["tell"]})
    assert "ch_inapp" in options_of(user, "send-channel")
    set_value(user, "send-mode", "offer")
    assert list(options_of(user, "send-offer-from")) == ["best"]
    set_value(user, "send-channel", "ch_inapp")
    set_value(user, "send-offer-from", "best")
    assert node(canvas, "tell")["summary"] == f"{names.channels['ch_inapp']} · offer from Pick"
    await eventually(lambda: not node(canvas, "tell")["errors"])


async def test_update_panel_adds_and_retypes_operations(engine: Engine, user: User) -> None:
    demo.seed_if_empty(engine)
    canvas = await open_editor(user, make_journey(engine, CONFIGURABLE))
    user.find(marker="canvas").trigger("selection", {"ids": ["mark"]})
    user.find(marker="add-operation").click()
    set_value(user, "operation-0-op", "addSegment")
    await user.should_see(marker="operation-0-segment")
    set_value(user, "operation-0-segment", "seg_beta")
    assert node(canvas, "mark")["summary"] == f"add to {catalog(engine).segments['seg_beta']}"


async def test_split_panel_keeps_the_total_in_view(engine: Engine, user: User) -> None:
    canvas = await open_editor(user, make_journey(engine, CONFIGURABLE))
    # Validation runs off the event loop: its verdict reaches the canvas a moment after opening.
    await eventually(lambda: bool(node(canvas, "ab")["errors"]))  # paths adding up to 80% are an error
    user.find(marker="canvas").trigger("selection", {"ids": ["ab"]})
    await user.should_see("Total 80% (must be 100%)")
    set_value(user, "path-1-percent", 50)
    await user.should_see("Total 100% (must be 100%)")
    assert node(canvas, "ab")["summary"] == "50% / 50%"


async def test_steps_without_positions_are_laid_out_and_that_is_saved(engine: Engine, user: User) -> None:
    unplaced = [{key: value for key, value in step.items() if key != "position"} for step in STEPS]
    journey_id = make_journey(engine, unplaced)
    canvas = await open_editor(user, journey_id)
    assert node(canvas, "wait")["x"] < node(canvas, "bye")["x"]
    await user.should_see("Unsaved changes")
    user.find(marker="save").click()
    await user.should_see("All changes saved")  # saved off the event loop
    assert all(step.get("position") for step in lifecycle.get_journey(engine, journey_id).steps)


async def test_test_run_can_use_an_existing_customer(engine: Engine, user: User) -> None:
    demo.seed_if_empty(engine)
    canvas = await open_editor(user, make_journey(engine))
    user.find(marker="open-test").click()
    assert "cus_0000" in next(iter(user.find(marker="test-customer").elements)).props["_autocomplete"]
    set_value(user, "test-customer", "cus_0000")
    user.find(marker="test-run").click()
    await user.should_see("Reached Exit 'Bye'")
    assert canvas.props["highlight"]["steps"] == ["wait", "bye"]
    set_value(user, "test-customer", "cus_nobody")
    user.find(marker="test-run").click()
    await user.should_see(marker="test-error")


async def test_toolbar_links_to_the_journeys_monitor(engine: Engine, user: User) -> None:
    journey_id = make_journey(engine)
    await user.open(f"/journeys/{journey_id}")
    await user.should_see(marker="open-monitor")
    targets = {link.props.get("href") for link in user.find(ui.link).elements}
    assert f"/journeys/{journey_id}/monitor" in targets
