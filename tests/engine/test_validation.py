"""The structural validator on crafted journeys: one finding per problem, with a stable code and step."""

from __future__ import annotations

from typing import Any

from engine.journeys.validation import validate
from engine.references import References
from models.journey import JourneyDefinition

REFS = References(
    segments={"seg_vip": "VIP"},
    decision_flows={"df_main": "Main"},
    channels={"ch_mail": "Mail"},
    channel_types={"ch_mail": "email"},
    offers={"off_1": "Ten percent"},
)
ENTRY = {"eventType": "signup"}


def wait(step_id: str, next_id: str | None = None, duration: int = 1, unit: str = "days") -> dict[str, Any]:
    return {"id": step_id, "type": "wait", "config": {"duration": duration, "unit": unit}, "next": next_id}


def send(step_id: str, next_id: str | None = None, **config: Any) -> dict[str, Any]:
    return {
        "id": step_id,
        "type": "send",
        "config": {"channelId": "ch_mail", "offerId": "off_1", **config},
        "next": next_id,
    }


def decide(step_id: str, next_id: str | None = None, store: str = "best") -> dict[str, Any]:
    return {
        "id": step_id,
        "type": "decide",
        "next": next_id,
        "config": {"decisionFlowId": "df_main", "storeResultAs": store},
    }


def branch(
    step_id: str, *targets: str, default: str | None = None, expression: str = "true"
) -> dict[str, Any]:
    conditions = [{"label": f"to {t}", "expression": expression, "targetStepId": t} for t in targets]
    return {"id": step_id, "type": "branch", "config": {"conditions": conditions, "defaultStepId": default}}


def findings(steps: list[dict[str, Any]], **document: Any) -> list[tuple[str, str, str | None]]:
    definition = JourneyDefinition.model_validate({"entryConditions": ENTRY, **document, "steps": steps})
    return [(issue.severity, issue.code, issue.step_id) for issue in validate(definition, REFS)]


def codes(steps: list[dict[str, Any]], **document: Any) -> set[str]:
    return {code for _, code, _ in findings(steps, **document)}


def test_sound_journey_has_no_findings() -> None:
    steps = [
        decide("pick", "mail", store="best"),
        send("mail", "pause", offerId=None, offerFrom="best"),
        wait("pause", "check"),
        branch("check", "done", default="done"),
        {"id": "done", "type": "exit", "config": {"reason": "finished"}},
    ]
    assert findings(steps) == []


def test_empty_journey_reports_no_steps() -> None:
    assert findings([]) == [("error", "no_steps", None)]


def test_second_step_with_same_id_is_a_duplicate() -> None:
    assert ("error", "duplicate_step_id", "a") in findings([wait("a"), wait("a")])


def test_dangling_next_is_an_unknown_target() -> None:
    assert findings([wait("a", "ghost")]) == [("error", "unknown_target", "a")]


def test_dangling_branch_target_is_an_unknown_target() -> None:
    assert ("error", "unknown_target", "b") in findings([branch("b", "ghost", default="end"), wait("end")])


def test_step_not_reachable_from_the_first_is_reported() -> None:
    assert findings([wait("a"), wait("island")]) == [("error", "unreachable_step", "island")]


def test_step_reachable_only_through_a_branch_is_reachable() -> None:
    assert findings([branch("b", "x", default="y"), wait("x"), wait("y")]) == []


def test_branch_without_default_is_only_a_warning() -> None:
    assert findings([branch("b", "x"), wait("x")]) == [("warning", "branch_without_default", "b")]


def test_branch_without_conditions_is_missing_config() -> None:
    assert ("error", "missing_config", "b") in findings([branch("b", default="x"), wait("x")])


def test_bad_cel_in_branch_is_an_invalid_expression() -> None:
    assert ("error", "invalid_expression", "b") in findings(
        [branch("b", "x", default="x", expression="customer.age >"), wait("x")]
    )


def test_bad_cel_in_entry_condition_is_an_invalid_expression() -> None:
    issues = findings([wait("a")], entryConditions={"eventType": "signup", "condition": "event.(("})
    assert issues == [("error", "invalid_expression", None)]


def test_loop_without_wait_is_reported_once() -> None:
    steps = [send("a", "b"), branch("b", "a", default="c"), wait("c")]
    assert findings(steps) == [("error", "cycle_without_wait", "a")]


def test_loop_through_a_wait_is_fine() -> None:
    assert "cycle_without_wait" not in codes([send("a", "w"), wait("w", "a")])


def test_step_pointing_at_itself_is_a_loop_without_wait() -> None:
    assert ("error", "cycle_without_wait", "a") in findings([send("a", "a")])


def test_wait_without_duration_is_missing_config() -> None:
    steps = [{"id": "w", "type": "wait", "config": {"unit": "hours"}}]
    assert findings(steps) == [("error", "missing_config", "w")]


def test_split_not_adding_up_to_100_is_invalid_config() -> None:
    paths = [
        {"label": "A", "percent": 50, "targetStepId": "a"},
        {"label": "B", "percent": 40, "targetStepId": "b"},
    ]
    steps = [{"id": "s", "type": "split", "config": {"paths": paths}}, wait("a"), wait("b")]
    assert findings(steps) == [("error", "invalid_config", "s")]


def test_split_without_paths_is_missing_config() -> None:
    assert findings([{"id": "s", "type": "split"}]) == [("error", "missing_config", "s")]


def test_decide_needs_a_known_flow_and_an_identifier_to_store_under() -> None:
    steps = [
        {"id": "d", "type": "decide", "config": {"decisionFlowId": "df_gone", "storeResultAs": "9 best"}}
    ]
    assert findings(steps) == [("error", "unknown_reference", "d"), ("error", "invalid_config", "d")]


def test_decide_without_flow_or_name_is_missing_config() -> None:
    assert findings([{"id": "d", "type": "decide"}]) == [("error", "missing_config", "d")] * 2


def test_send_needs_a_known_channel_and_an_offer() -> None:
    steps = [{"id": "m", "type": "send", "config": {"channelId": "ch_gone"}}]
    assert findings(steps) == [("error", "unknown_reference", "m"), ("error", "missing_config", "m")]


def test_send_with_unknown_offer_is_an_unknown_reference() -> None:
    assert findings([send("m", offerId="off_gone")]) == [("error", "unknown_reference", "m")]


def test_offer_from_must_name_an_earlier_decide_result() -> None:
    assert findings([send("m", offerId=None, offerFrom="nothing")]) == [("error", "invalid_config", "m")]
    later = [send("m", "d", offerId=None, offerFrom="best"), decide("d", store="best")]
    assert findings(later) == [("error", "invalid_config", "m")]


def test_update_operations_need_their_subject() -> None:
    operations = [
        {"op": "set", "value": 1},
        {"op": "addSegment"},
        {"op": "setFlag", "value": True},
        {"op": "removeSegment", "segmentId": "seg_gone"},
        {"op": "increment", "attribute": "n", "value": "x"},
    ]
    issues = findings([{"id": "u", "type": "update", "config": {"operations": operations}}])
    assert issues == [("error", "missing_config", "u")] * 3 + [
        ("error", "unknown_reference", "u"),
        ("error", "invalid_config", "u"),
    ]


def test_update_without_operations_is_missing_config() -> None:
    assert findings([{"id": "u", "type": "update"}]) == [("error", "missing_config", "u")]


def test_unknown_entry_segment_is_an_unknown_reference() -> None:
    assert findings([wait("a")], entryConditions={"segmentId": "seg_gone"}) == [
        ("error", "unknown_reference", None)
    ]


def test_known_entry_segment_is_accepted() -> None:
    assert findings([wait("a")], entryConditions={"segmentId": "seg_vip"}) == []


def test_journey_without_segment_or_event_warns_manual_entry_only() -> None:
    assert findings([wait("a")], entryConditions={}) == [("warning", "no_entry_trigger", None)]


def test_waits_past_max_duration_on_every_path_warn() -> None:
    steps = [branch("b", "long", default="short"), wait("long", duration=40), wait("short", duration=31)]
    assert findings(steps, maxDuration=30) == [("warning", "max_duration_exceeded", None)]


def test_one_short_path_is_enough_to_stay_within_max_duration() -> None:
    steps = [
        branch("b", "long", default="short"),
        wait("long", duration=40),
        wait("short", duration=12, unit="hours"),
    ]
    assert findings(steps, maxDuration=30) == []


def test_exit_with_next_warns_that_next_is_ignored() -> None:
    steps = [{"id": "x", "type": "exit", "next": "w"}, wait("w")]
    # The ignored `next` is no edge either: nothing leads to `w`.
    assert sorted(findings(steps)) == [("error", "unreachable_step", "w"), ("warning", "next_ignored", "x")]
