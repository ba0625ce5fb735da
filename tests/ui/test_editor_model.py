"""The editor's pure parts: auto-layout, the working copy, condition rows, node summaries."""

from __future__ import annotations

import itertools
from typing import Any

from engine.journeys.layout import HEADER_HEIGHT, NODE_WIDTH, layout, node_height, step_outputs
from ui.components.conditions import Row, from_cel, to_cel
from ui.components.editor_state import EditorState
from ui.components.flow_model import build_edges, build_nodes, step_summary


def chain(*ids: str) -> list[dict[str, Any]]:
    steps = [{"id": step_id, "type": "wait", "config": {"duration": 1, "unit": "days"}} for step_id in ids]
    for step, following in itertools.pairwise(steps):
        step["next"] = following["id"]
    return steps


def branch(step_id: str, targets: list[str], default: str | None = None) -> dict[str, Any]:
    conditions = [{"label": f"c{i}", "expression": "true", "targetStepId": t} for i, t in enumerate(targets)]
    return {"id": step_id, "type": "branch", "config": {"conditions": conditions, "defaultStepId": default}}


def state_of(steps: list[dict[str, Any]]) -> EditorState:
    return EditorState(
        {
            "id": "jrn_x",
            "status": "draft",
            "version": 1,
            "revision": 1,
            "name": "X",
            "description": "",
            "maxDuration": 30,
            "entryConditions": {},
            "steps": steps,
        }
    )


# ---- layout ---------------------------------------------------------------------------------------------


def test_layout_puts_each_step_one_layer_after_its_furthest_predecessor() -> None:
    steps = [branch("b", ["x", "y"], default="end"), *chain("x", "end"), {"id": "y", "type": "exit"}]
    positions = layout(steps)
    assert positions["b"]["x"] < positions["x"]["x"] == positions["y"]["x"] < positions["end"]["x"]


def test_layout_keeps_a_branch_outputs_in_port_order_and_never_overlaps() -> None:
    steps = [
        branch("b", ["first", "second", "third"]),
        *[{"id": i, "type": "exit"} for i in ("third", "second", "first")],
    ]
    positions = layout(steps)
    ys = [positions[i]["y"] for i in ("first", "second", "third")]
    assert ys == sorted(ys)
    assert all(b - a >= HEADER_HEIGHT for a, b in itertools.pairwise(ys))


def test_layout_handles_loops_and_unreachable_steps() -> None:
    steps = chain("a", "b", "c")
    steps[2]["next"] = "a"  # a loop back to the start
    steps.append({"id": "orphan", "type": "exit"})
    positions = layout(steps)
    assert set(positions) == {"a", "b", "c", "orphan"}
    assert positions["a"]["x"] < positions["b"]["x"] < positions["c"]["x"]


def test_node_height_grows_with_labelled_outputs() -> None:
    assert node_height({"id": "w", "type": "wait"}) == HEADER_HEIGHT
    assert node_height(branch("b", ["x", "y"])) > node_height(branch("b", ["x"]))
    assert [o.port for o in step_outputs(branch("b", ["x"], "y"))] == ["cond:0", "default"]


# ---- the working copy -----------------------------------------------------------------------------------


def test_connecting_a_fresh_step_into_an_edge_inserts_it() -> None:
    state = state_of(chain("a", "b"))
    new = state.add_step("wait", 10, 20)
    assert state.connect("a", "next", new)
    assert (state.step("a")["next"], state.step(new)["next"]) == (new, "b")


def test_connecting_branch_ports_and_the_entry() -> None:
    state = state_of([branch("b", ["x"]), *chain("x"), {"id": "y", "type": "exit"}])
    state.connect("b", "default", "y")
    state.connect("b", "cond:0", "y")
    config = state.step("b")["config"]
    assert (config["conditions"][0]["targetStepId"], config["defaultStepId"]) == ("y", "y")
    state.connect("__entry__", "next", "y")
    assert state.step_ids()[0] == "y"


def test_disconnect_and_delete_remove_references() -> None:
    state = state_of([branch("b", ["x"], default="x"), *chain("x")])
    state.disconnect("b", "cond:0")
    assert "targetStepId" not in state.step("b")["config"]["conditions"][0]
    state.delete_steps(["x"])
    assert state.step_ids() == ["b"]
    assert "defaultStepId" not in state.step("b")["config"]


def test_undo_redo_and_dirty_tracking() -> None:
    state = state_of(chain("a"))
    assert not state.dirty
    state.move([{"id": "a", "x": 5, "y": 6}])
    assert state.dirty and state.can_undo
    assert state.undo() and not state.dirty
    assert state.redo() and state.step("a")["position"] == {"x": 5, "y": 6}
    assert not state.change(lambda doc: None), "an edit that changes nothing is not recorded"


def test_new_steps_get_unique_ids_and_defaults() -> None:
    state = state_of(chain("wait_1"))
    assert state.add_step("wait", 0, 0) == "wait_2"
    split = state.step(state.add_step("split", 0, 0))
    assert sum(path["percent"] for path in split["config"]["paths"]) == 100


# ---- condition rows -------------------------------------------------------------------------------------


def test_rows_write_cel_and_read_it_back() -> None:
    rows = [
        Row("customer.country", "==", "DE"),
        Row("customer.age", ">=", "18"),
        Row("outcome", "contains", "cl"),
    ]
    expression = to_cel(rows)
    assert expression == "customer.country == 'DE' && customer.age >= 18 && outcome.contains('cl')"
    assert from_cel(expression) == rows


def test_hand_written_cel_is_left_to_the_raw_field() -> None:
    assert from_cel("size(best) > 0 || outcome == 'click'") is None
    assert to_cel([Row("customer.name", "==", "O'Brien")]) == "customer.name == 'O\\'Brien'"
    assert from_cel(to_cel([Row("customer.name", "==", "O'Brien")])) == [
        Row("customer.name", "==", "O'Brien")
    ]


# ---- nodes and summaries --------------------------------------------------------------------------------


def test_summaries_say_what_a_step_does() -> None:
    assert step_summary({"type": "wait", "config": {"duration": 3, "unit": "days"}}) == "3 days"
    assert step_summary({"type": "wait", "config": {"duration": 1, "unit": "hours"}}) == "1 hour"
    assert (
        step_summary({"type": "decide", "config": {"decisionFlowId": "df_loans", "maxOffers": 1}})
        == "df_loans → 1 offer"
    )
    assert step_summary(branch("b", ["x", "y"], default="z")) == "2 conditions + default"
    assert (
        step_summary({"type": "split", "config": {"paths": [{"percent": 50}, {"percent": 50}]}})
        == "50% / 50%"
    )


def test_nodes_carry_ports_and_issues_and_edges_skip_dangling_targets() -> None:
    steps = [branch("b", ["x", "missing"]), *chain("x")]
    issues = [{"severity": "error", "stepId": "b", "message": "target 'missing' does not exist", "code": "c"}]
    nodes = {n["id"]: n for n in build_nodes({"steps": steps}, issues)}
    assert [p["branch"] for p in nodes["b"]["ports"]] == ["c0", "c1", "default"]
    assert nodes["b"]["errors"] == ["target 'missing' does not exist"]
    assert nodes["__entry__"]["x"] + NODE_WIDTH < nodes["b"]["x"] + 1
    edges = {(e["source"], e["target"]) for e in build_edges({"steps": steps})}
    assert edges == {("__entry__", "b"), ("b", "x")}
