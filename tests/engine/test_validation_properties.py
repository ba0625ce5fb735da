"""Property tests: on random step graphs the validator never raises, and it reports exactly the steps that
cannot be reached from the first one (checked against a plain breadth-first search)."""

from __future__ import annotations

from collections import deque
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.journeys.validation import validate
from engine.references import References
from models.journey import BranchStep, ExitStep, JourneyDefinition, SplitStep, StepBase

IDS = [f"s{i}" for i in range(12)]
REFS = References(
    segments={"seg": "S"},
    decision_flows={"df": "D"},
    channels={"ch": "C"},
    channel_types={"ch": "email"},
    offers={"of": "O"},
)

target = st.one_of(st.none(), st.sampled_from([*IDS, "ghost"]))
expression = st.one_of(
    st.sampled_from(["true", "customer.age > 3", "outcome == 'click'", "(", ""]), st.text(max_size=12)
)


def config_for(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    if kind == "wait":
        return st.fixed_dictionaries(
            {
                "duration": st.one_of(st.none(), st.integers(1, 90)),
                "unit": st.sampled_from(["minutes", "hours", "days"]),
            }
        )
    if kind == "branch":
        condition = st.fixed_dictionaries({"expression": expression, "targetStepId": target})
        return st.fixed_dictionaries({"conditions": st.lists(condition, max_size=3), "defaultStepId": target})
    if kind == "split":
        path = st.fixed_dictionaries({"percent": st.integers(0, 100), "targetStepId": target})
        return st.fixed_dictionaries({"paths": st.lists(path, max_size=3)})
    if kind == "decide":
        return st.fixed_dictionaries(
            {
                "decisionFlowId": st.sampled_from(["df", "nope"]),
                "storeResultAs": st.sampled_from(["best", "x y", "event"]),
            }
        )
    if kind == "send":
        return st.fixed_dictionaries(
            {"channelId": st.sampled_from(["ch", "nope"]), "offerFrom": st.sampled_from(["best", "other"])}
        )
    if kind == "update":
        operation = st.fixed_dictionaries({"op": st.sampled_from(["set", "addSegment", "setFlag"])})
        return st.fixed_dictionaries({"operations": st.lists(operation, max_size=2)})
    return st.just({})


@st.composite
def step(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["wait", "send", "branch", "split", "decide", "update", "exit"]))
    return {
        "id": draw(st.sampled_from(IDS)),
        "type": kind,
        "next": draw(target),
        "config": draw(config_for(kind)),
    }


documents = st.fixed_dictionaries(
    {
        "maxDuration": st.integers(1, 365),
        "entryConditions": st.fixed_dictionaries({"segmentId": st.sampled_from(["seg", "nope"])}),
        "steps": st.lists(step(), max_size=14),
    }
)


def runtime_targets(step: StepBase) -> list[str | None]:
    """Where the runtime can go from a step: a branch's conditions and default, a split's paths, an exit
    nowhere, any other step its `next` (a `next` on branch, split or exit is ignored)."""
    if isinstance(step, BranchStep):
        return [c.target_step_id for c in step.config.conditions] + [step.config.default_step_id]
    if isinstance(step, SplitStep):
        return [path.target_step_id for path in step.config.paths]
    return [] if isinstance(step, ExitStep) else [step.next]


def truly_unreachable(definition: JourneyDefinition) -> set[str]:
    """Breadth-first search from the first step over the first step of each id."""
    steps: dict[str, Any] = {}
    for item in definition.steps:
        steps.setdefault(item.id, item)
    if not steps:
        return set()
    first = definition.steps[0].id
    seen, queue = {first}, deque([first])
    while queue:
        for target_id in runtime_targets(steps[queue.popleft()]):
            if target_id in steps and target_id not in seen:
                seen.add(target_id)
                queue.append(target_id)
    return set(steps) - seen


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_validator_reports_exactly_the_unreachable_steps(document: dict[str, Any]) -> None:
    definition = JourneyDefinition.model_validate(document)
    issues = validate(definition, REFS)
    reported = {issue.step_id for issue in issues if issue.code == "unreachable_step"}
    assert reported == truly_unreachable(definition)
    assert all(issue.severity in ("error", "warning") and issue.message for issue in issues)
    assert ("no_steps" in {issue.code for issue in issues}) == (not definition.steps)
