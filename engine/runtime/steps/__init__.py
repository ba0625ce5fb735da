"""Step executors, one module per step type, registered in one dict.

Each module has `execute(step, run) -> StepResult` and `WRITES_DB` (True when it writes the database: the
runner runs it inside a savepoint, so a failure rolls back only that step of that enrollment). A step that
only reads (branch, decide) reads what its batch loads once, and needs no savepoint: a savepoint costs two
statements, as much as the rest of a warm decide step.
"""

from __future__ import annotations

from types import ModuleType

from engine.runtime.steps import branch, decide, exit, send, split, update, wait

EXECUTORS: dict[str, ModuleType] = {
    "wait": wait,
    "decide": decide,
    "branch": branch,
    "send": send,
    "update": update,
    "split": split,
    "exit": exit,
}
