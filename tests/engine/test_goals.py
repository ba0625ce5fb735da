"""Journey goals: the goal in the journey document, and conversion per split branch and per end, computed
from real enrollments, split history and events in virtual time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from engine.audience import customers, events
from engine.clock import VirtualClock
from engine.engine import Engine
from engine.errors import Invalid, NotFound
from engine.journeys import lifecycle
from engine.monitoring import goals
from engine.runtime import enrollments, entry, runner
from models.audience import CustomerIn, EventIn
from models.journey import JourneyCreate, JourneyUpdate

SPLIT_STEPS: list[dict[str, Any]] = [
    {"id": "ab", "type": "split", "name": "A/B", "config": {"paths": [
        {"label": "A", "percent": 50, "targetStepId": "done_a"},
        {"label": "B", "percent": 50, "targetStepId": "hold"}]}},
    {"id": "done_a", "type": "exit", "name": "Plain welcome", "config": {"reason": "a_done"}},
    {"id": "hold", "type": "wait", "name": "Hold", "config": {"duration": 30, "unit": "days"},
     "next": "done_b"},
    {"id": "done_b", "type": "exit", "name": "Rich welcome", "config": {"reason": "b_done"}},
]
GOAL = {"eventType": "purchase", "withinDays": 7}


def make_journey(engine: Engine, count: int, goal: dict[str, Any] | None = GOAL) -> tuple[str, list[str]]:
    """An active 50/50 split journey with `count` customers enrolled and run once."""
    for number in range(count):
        customers.create_customer(engine, CustomerIn(id=f"c{number}"))
    document: dict[str, Any] = {"name": "A/B welcome", "steps": SPLIT_STEPS}
    if goal is not None:
        document["goal"] = goal
    journey = lifecycle.create_journey(engine, JourneyCreate.model_validate(document))
    lifecycle.change_status(engine, journey.id, "active")
    ids = entry.enroll(engine, journey.id, [f"c{number}" for number in range(count)])["enrollmentIds"]
    runner.run_due(engine)
    return journey.id, ids


def branch_of(engine: Engine, enrollment_ids: list[str]) -> dict[str, list[str]]:
    """customer ids by the split branch their enrollment took (read from its history)."""
    taken: dict[str, list[str]] = {}
    for enrollment_id in enrollment_ids:
        item = enrollments.get_enrollment(engine, enrollment_id)
        label = next(entry["outcome"] for entry in item["history"] if entry["type"] == "split")
        taken.setdefault(label, []).append(item["customerId"])
    return taken


def purchase(engine: Engine, customer_ids: list[str], at: datetime, kind: str = "purchase") -> None:
    events.accept(engine, [EventIn(customer_id=customer_id, type=kind, occurred_at=at)
                   for customer_id in customer_ids])


# ---- the goal in the document ----------------------------------------------------------------------------

def test_goal_is_stored_exported_and_imported(engine: Engine) -> None:
    journey = lifecycle.create_journey(engine, JourneyCreate.model_validate(
        {"name": "g", "steps": SPLIT_STEPS, "goal": GOAL}))
    assert lifecycle.get_journey(engine, journey.id).goal == GOAL
    exported = lifecycle.export_journey(engine, journey.id)
    assert exported["goal"] == GOAL
    assert lifecycle.import_journey(engine, exported).goal == GOAL
    assert lifecycle.list_versions(engine, journey.id)[0]["goal"] == GOAL


def test_a_blank_goal_event_type_is_a_validation_error_and_blocks_activation(engine: Engine) -> None:
    journey = lifecycle.create_journey(engine, JourneyCreate.model_validate(
        {"name": "g", "steps": SPLIT_STEPS, "goal": {"eventType": " ", "withinDays": 7}}))
    codes = [issue.code for issue in lifecycle.validate_journey(engine, journey.id).issues]
    assert "incomplete_goal" in codes
    with pytest.raises(Exception, match="validation errors"):
        lifecycle.change_status(engine, journey.id, "active")


@pytest.mark.parametrize("days", [0, 366])
def test_goal_days_must_be_between_1_and_365(days: int) -> None:
    with pytest.raises(ValueError, match="withinDays"):
        JourneyCreate.model_validate({"name": "g", "goal": {"eventType": "purchase", "withinDays": days}})


def test_an_active_journey_goal_changes_without_pausing_or_a_new_version(engine: Engine) -> None:
    journey_id, _ids = make_journey(engine, 2, goal=None)
    before = lifecycle.get_journey(engine, journey_id)
    changed = lifecycle.update_journey(engine, journey_id, JourneyUpdate.model_validate({"goal": GOAL}))
    assert changed.goal == GOAL and changed.version == before.version
    assert changed.revision == before.revision + 1
    removed = lifecycle.update_journey(engine, journey_id, JourneyUpdate.model_validate({"goal": None}))
    assert removed.goal is None and removed.status == "active"
    with pytest.raises(Invalid) as refused:
        lifecycle.update_journey(engine, journey_id, JourneyUpdate.model_validate(
            {"goal": {"eventType": "", "withinDays": 3}}))
    assert refused.value.details == {"field": "goal.eventType"}


def test_leaving_the_goal_out_of_an_update_keeps_it(engine: Engine) -> None:
    journey = lifecycle.create_journey(engine, JourneyCreate.model_validate(
        {"name": "g", "steps": SPLIT_STEPS, "goal": GOAL}))
    updated = lifecycle.update_journey(engine, journey.id, JourneyUpdate.model_validate({"maxDuration": 20}))
    assert updated.goal == GOAL


# ---- conversion ------------------------------------------------------------------------------------------

def test_conversion_per_branch_and_end_at_known_rates(engine: Engine, clock: VirtualClock) -> None:
    entered = clock.now()
    journey_id, ids = make_journey(engine, 200)
    taken = branch_of(engine, ids)
    a, b = taken["A"], taken["B"]
    # A converts every 5th customer (20%), B every 2nd (50%), all within the window.
    a_buyers, b_buyers = a[::5], b[::2]
    purchase(engine, a_buyers, entered + timedelta(days=1))
    purchase(engine, b_buyers, entered + timedelta(days=6, hours=23))
    clock.advance(days=2)

    result = goals.journey_goal(engine, journey_id)

    assert result["goal"] == GOAL
    assert result["overall"] == {"n": 200, "conversions": len(a_buyers) + len(b_buyers),
                                 "rate": round((len(a_buyers) + len(b_buyers)) / 200, 6), "open": 200}
    (split,) = result["splits"]
    assert split["stepId"] == "ab" and split["stepName"] == "A/B" and split["control"] == "A"
    branch_a, branch_b = split["branches"]
    assert (branch_a["label"], branch_a["n"], branch_a["conversions"]) == ("A", len(a), len(a_buyers))
    assert (branch_b["label"], branch_b["n"], branch_b["conversions"]) == ("B", len(b), len(b_buyers))
    assert branch_a["rate"] == round(len(a_buyers) / len(a), 6)
    low, high = confint_proportions_2indep(len(b_buyers), len(b), len(a_buyers), len(a),
                                           method="newcomb", compare="diff")
    difference = branch_b["difference"]
    assert difference["value"] == pytest.approx(len(b_buyers) / len(b) - len(a_buyers) / len(a), abs=1e-6)
    assert (difference["low"], difference["high"]) == (pytest.approx(low, abs=1e-6),
                                                       pytest.approx(high, abs=1e-6))
    assert split["verdict"]["winner"] == "B" and split["verdict"]["enough"]
    assert split["verdict"]["text"].startswith("B converts ")
    assert f"(95% CI {low * 100:.1f} to {high * 100:.1f})" in split["verdict"]["text"]
    # A's customers ended at its exit; B's still wait in the journey.
    paths = {path["key"]: path for path in result["paths"]}
    assert paths["exit:done_a"]["label"] == "Exited at Plain welcome"
    assert (paths["exit:done_a"]["n"], paths["exit:done_a"]["conversions"]) == (len(a), len(a_buyers))
    assert (paths["in_journey"]["n"], paths["in_journey"]["conversions"]) == (len(b), len(b_buyers))


def test_events_before_entry_after_the_window_or_of_another_type_do_not_count(
    engine: Engine, clock: VirtualClock
) -> None:
    entered = clock.now()
    journey_id, _ids = make_journey(engine, 6)
    purchase(engine, ["c0"], entered - timedelta(seconds=1))  # before entering
    purchase(engine, ["c1"], entered + timedelta(days=7, seconds=1))  # just after the 7 days
    purchase(engine, ["c2"], entered + timedelta(days=2), kind="browse")  # another type
    purchase(engine, ["c3"], entered)  # the moment of entry counts
    purchase(engine, ["c4"], entered + timedelta(days=7))  # the last moment of the window counts
    clock.advance(days=10)
    result = goals.journey_goal(engine, journey_id)
    assert result["overall"] == {"n": 6, "conversions": 2, "rate": round(2 / 6, 6), "open": 0}


def test_each_enrollment_has_its_own_window(engine: Engine, clock: VirtualClock) -> None:
    journey_id, _ids = make_journey(engine, 1)
    first_entry = clock.now()
    purchase(engine, ["c0"], first_entry + timedelta(days=9))
    result = goals.journey_goal(engine, journey_id)
    assert result["overall"]["conversions"] == 0  # 9 days after entering: outside its 7 days


def test_small_branches_say_not_enough_data(engine: Engine, clock: VirtualClock) -> None:
    journey_id, _ids = make_journey(engine, 10)
    (split,) = goals.journey_goal(engine, journey_id)["splits"]
    assert split["verdict"]["winner"] is None and not split["verdict"]["enough"]
    assert split["verdict"]["text"].startswith("Not enough data yet")


def test_a_split_nobody_reached_lists_its_branches_empty(engine: Engine) -> None:
    journey = lifecycle.create_journey(engine, JourneyCreate.model_validate(
        {"name": "g", "steps": SPLIT_STEPS, "goal": GOAL}))
    result = goals.journey_goal(engine, journey.id)
    assert result["overall"] == {"n": 0, "conversions": 0, "rate": 0.0, "open": 0}
    (split,) = result["splits"]
    assert [(branch["label"], branch["n"]) for branch in split["branches"]] == [("A", 0), ("B", 0)]
    assert split["branches"][1]["difference"] is None
    assert result["paths"] == []


def test_without_a_goal_there_are_no_figures(engine: Engine) -> None:
    journey_id, _ids = make_journey(engine, 2, goal=None)
    result = goals.journey_goal(engine, journey_id)
    assert result["goal"] is None and result["overall"] is None and result["splits"] == []


def test_unknown_journey_is_not_found(engine: Engine) -> None:
    with pytest.raises(NotFound):
        goals.journey_goal(engine, "jrn_nope")


# ---- the verdict and the interval --------------------------------------------------------------------------

def branch(label: str, n: int, conversions: int) -> dict[str, Any]:
    return {"label": label, "n": n, "conversions": conversions, "rate": conversions / n}


def with_differences(*branches: dict[str, Any]) -> list[dict[str, Any]]:
    control = branches[0]
    for other in branches[1:]:
        other["difference"] = goals._difference(other, control)
    return list(branches)


def test_interval_matches_newcombes_published_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873-890, table II example (a): 56/70 vs 48/80,
    # method 10 (hybrid score): 0.0524 to 0.3339.
    difference = goals._difference(branch("x", 70, 56), branch("y", 80, 48))
    assert difference is not None
    assert (round(difference["low"], 4), round(difference["high"], 4)) == (0.0524, 0.3339)


def test_control_wins_when_every_other_branch_is_clearly_worse() -> None:
    result = goals.verdict(with_differences(branch("A", 1000, 300), branch("B", 1000, 200)))
    assert result["winner"] == "A"
    assert result["text"].startswith("A converts 10.0 pts better than B (95% CI ")


def test_overlapping_rates_have_no_clear_winner() -> None:
    result = goals.verdict(with_differences(branch("A", 100, 20), branch("B", 100, 23)))
    assert result == {"winner": None, "enough": True, "text": result["text"]}
    assert result["text"].startswith("No clear winner yet: B vs A: +3.0 pts (95% CI ")
