"""Validation speed on a 200-step journey (target: well under 50 ms; it runs on every edit).

Run: python tests/perf/bench_validation.py
Prints median and p95 milliseconds for: parsing the document alone (the baseline), validating the parsed
definition, and both together as the editor does; plus the cold first run (CEL compiles not yet cached).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.journeys.validation import validate
from engine.references import References
from models.journey import JourneyDefinition

STEPS = 200
RUNS = 300
REFS = References(
    segments={f"seg_{i}": f"Segment {i}" for i in range(50)},
    decision_flows={f"df_{i}": f"Flow {i}" for i in range(20)},
    channels={f"ch_{i}": f"Channel {i}" for i in range(10)},
    channel_types={f"ch_{i}": "email" for i in range(10)},
    offers={f"off_{i}": f"Offer {i}" for i in range(100)},
)


def block(n: int, next_id: str) -> list[dict[str, Any]]:
    """Eight steps: decide, send, wait, branch (to update, split or update), all joining at `next_id`."""
    ids = [f"b{n}_{k}" for k in range(8)]
    return [
        {
            "id": ids[0],
            "type": "decide",
            "next": ids[1],
            "config": {"decisionFlowId": f"df_{n % 20}", "storeResultAs": f"best{n}"},
        },
        {
            "id": ids[1],
            "type": "send",
            "next": ids[2],
            "config": {"channelId": f"ch_{n % 10}", "offerFrom": f"best{n}"},
        },
        {
            "id": ids[2],
            "type": "wait",
            "next": ids[3],
            "config": {"duration": 1, "unit": "hours", "untilEvent": "purchase"},
        },
        {
            "id": ids[3],
            "type": "branch",
            "config": {
                "conditions": [
                    {
                        "label": "clicked",
                        "expression": f"outcome == 'click' && customer.score > {n}",
                        "targetStepId": ids[4],
                    },
                    {
                        "label": "vip",
                        "expression": f"'seg_{n % 50}' in customer.segments",
                        "targetStepId": ids[5],
                    },
                ],
                "defaultStepId": ids[6],
            },
        },
        {
            "id": ids[4],
            "type": "update",
            "next": next_id,
            "config": {"operations": [{"op": "increment", "attribute": "clicks", "value": 1}]},
        },
        {
            "id": ids[5],
            "type": "split",
            "config": {
                "paths": [
                    {"label": "A", "percent": 50, "targetStepId": ids[7]},
                    {"label": "B", "percent": 50, "targetStepId": next_id},
                ]
            },
        },
        {
            "id": ids[6],
            "type": "update",
            "next": next_id,
            "config": {"operations": [{"op": "addSegment", "segmentId": f"seg_{n % 50}"}]},
        },
        {
            "id": ids[7],
            "type": "send",
            "next": next_id,
            "config": {"channelId": "ch_0", "offerId": f"off_{n % 100}"},
        },
    ]


def document() -> dict[str, Any]:
    blocks = (STEPS - 1) // 8
    steps: list[dict[str, Any]] = []
    for n in range(blocks):
        steps += block(n, f"b{n + 1}_0" if n + 1 < blocks else "tail_0")
    tail = STEPS - 1 - len(steps)
    for k in range(tail):
        steps.append(
            {
                "id": f"tail_{k}",
                "type": "update",
                "next": f"tail_{k + 1}" if k + 1 < tail else "end",
                "config": {"operations": [{"op": "setFlag", "flag": f"f{k}", "value": True}]},
            }
        )
    steps.append({"id": "end", "type": "exit", "config": {"reason": "done"}})
    return {
        "maxDuration": 365,
        "entryConditions": {"segmentId": "seg_1", "condition": "customer.age >= 18"},
        "steps": steps,
    }


def timings(fn: Callable[[], Any], runs: int = RUNS) -> list[float]:
    spent = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        spent.append((time.perf_counter() - start) * 1000)
    return spent


def summary(name: str, spent: list[float]) -> float:
    median = statistics.median(spent)
    p95 = statistics.quantiles(spent, n=20)[-1]
    print(f"{name:<28} median {median:7.2f} ms   p95 {p95:7.2f} ms")
    return median


def main() -> None:
    doc = document()
    definition = JourneyDefinition.model_validate(doc)
    assert len(definition.steps) == STEPS
    start = time.perf_counter()
    issues = validate(definition, REFS)
    cold = (time.perf_counter() - start) * 1000
    errors = [issue for issue in issues if issue.severity == "error"]
    assert not errors, errors[:3]
    print(
        f"{len(definition.steps)} steps, {len(issues)} findings; cold first run {cold:.2f} ms (CEL compiles)"
    )
    parse = summary("parse document (baseline)", timings(lambda: JourneyDefinition.model_validate(doc)))
    check = summary("validate(definition)", timings(lambda: validate(definition, REFS)))
    summary("parse + validate", timings(lambda: validate(JourneyDefinition.model_validate(doc), REFS)))
    print(
        f"validate / parse ratio: {check / parse:.1f}x; target < 50 ms: {'met' if check < 50 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
