"""Editor responsiveness on a 100-step journey: auto-layout, validation and canvas model per edit.

Run: python tests/perf/bench_editor.py [steps]. Prints median milliseconds (target < 100 ms each) and, so
figures compare across machines, each as a ratio to a same-process baseline: one deep copy of the
document (what the editor's undo history does on every edit).
"""

from __future__ import annotations

import copy
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine import startup
from engine.journeys import lifecycle
from engine.journeys.layout import layout
from engine.settings import Settings
from ui.components.flow_model import build_edges, build_nodes

RUNS = 30


def journey(size: int, seed: int = 7) -> dict[str, Any]:
    """A journey of `size` steps: a main line with branches, splits and waits, ending in exits."""
    rng = random.Random(seed)
    steps: list[dict[str, Any]] = []
    for index in range(size):
        step_id = f"s{index}"
        following = f"s{index + 1}" if index + 1 < size else None
        kind = rng.choice(["wait", "wait", "update", "branch", "split", "send"]) if following else "exit"
        step: dict[str, Any] = {"id": step_id, "type": kind, "name": f"Step {index}"}
        if kind == "wait":
            step["config"] = {"duration": rng.randint(1, 3), "unit": "hours"}
        elif kind == "update":
            step["config"] = {"operations": [{"op": "set", "attribute": "seen", "value": index}]}
        elif kind == "send":
            step["config"] = {"channelId": "ch_missing", "offerId": "off_missing"}
        elif kind == "branch":
            skip = f"s{min(size - 1, index + rng.randint(2, 6))}"
            step["config"] = {
                "conditions": [
                    {"label": "vip", "expression": "customer.tier == 'gold'", "targetStepId": skip}
                ],
                "defaultStepId": following,
            }
        elif kind == "split":
            skip = f"s{min(size - 1, index + rng.randint(2, 6))}"
            step["config"] = {
                "paths": [
                    {"label": "A", "percent": 50, "targetStepId": following},
                    {"label": "B", "percent": 50, "targetStepId": skip},
                ]
            }
        else:
            step["config"] = {"reason": "done"}
        if following and kind in ("wait", "update", "send"):
            step["next"] = following
        steps.append(step)
    return {"name": "Bench", "description": "", "maxDuration": 365, "entryConditions": {}, "steps": steps}


def median_ms(work: Callable[[], Any]) -> float:
    timings = []
    for _ in range(RUNS):
        start = time.perf_counter()
        work()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    with tempfile.TemporaryDirectory() as folder:
        engine = startup.start(
            Settings(database_url=f"sqlite:///{Path(folder) / 'bench.db'}", demo=False, scheduler=False)
        )
        document = journey(size)
        positions = layout(document["steps"])
        for step in document["steps"]:
            step["position"] = positions[step["id"]]
        issues = [issue.model_dump(by_alias=True)
                  for issue in lifecycle.validate_document(engine, document).issues]
        baseline = median_ms(lambda: copy.deepcopy(document))
        figures = {
            "auto-layout": median_ms(lambda: layout(document["steps"])),
            "validation": median_ms(lambda: lifecycle.validate_document(engine, document)),
            "canvas model": median_ms(lambda: (build_nodes(document, issues), build_edges(document))),
        }
        engine.close()
    print(f"{size}-step journey, median of {RUNS} runs (baseline: one deep copy = {baseline:.2f} ms)")
    for name, ms in figures.items():
        verdict = "ok" if ms < 100 else "SLOW"
        print(f"  {name:<13} {ms:7.2f} ms  ({ms / baseline:6.1f}x baseline)  target < 100 ms: {verdict}")
    print(f"  validation found {len(issues)} issues")


if __name__ == "__main__":
    main()
