"""A journey's goal results: how many enrollments converted, per split branch and per way the journey ended,
and for each split step whether a branch converts better than the first (control) branch.

An enrollment converts when its customer has an event of the goal's type at or after entering the journey
and at most `withinDays` days later. Everything is counted in SQL, in two grouped queries: one row per way
of ending (their sum is the overall figure), one row per split step and branch (from the split steps'
history rows, through the partial index ix_history_split).
The difference between two branches' rates comes with a 95% confidence interval (Newcombe's hybrid score
interval, from statsmodels).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, literal, select, text
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from engine.engine import Engine
from engine.records import fetch
from models.audience import Event
from models.common import iso
from models.enrollment import Enrollment, EnrollmentHistory
from models.journey import Journey

E = Enrollment.__table__  # type: ignore[attr-defined]
H = EnrollmentHistory.__table__  # type: ignore[attr-defined]
V = Event.__table__  # type: ignore[attr-defined]

# Below this many enrollments in a branch, comparing branches says "not enough data" rather than a verdict.
MIN_PER_BRANCH = 30
CONFIDENCE = 0.95
IN_JOURNEY, FAILED = "in_journey", "failed"


def journey_goal(engine: Engine, journey_id: str) -> dict[str, Any]:
    """The goal results of one journey as wire-form JSON (the API answers exactly this)."""
    with engine.db.reader() as s:
        return collect(s, journey_id, engine.now())


def collect(s: Session, journey_id: str, at: datetime) -> dict[str, Any]:
    journey = fetch(s, Journey, journey_id, "journey")
    goal = journey.goal if journey.goal and (journey.goal.get("eventType") or "").strip() else None
    result: dict[str, Any] = {"journeyId": journey.id, "name": journey.name, "at": iso(at), "goal": goal,
                              "overall": None, "splits": [], "paths": []}
    if goal is None:
        return result
    days = int(goal["withinDays"])
    if s.get_bind().dialect.name == "postgresql":
        # The planner prices the per-enrollment EXISTS high enough to JIT-compile the queries, and compiling
        # costs more than running them (about 0.6 s of 1.2 s at 100,000 enrollments). This transaction only.
        s.execute(text("SET LOCAL jit = off"))
    converted = _converted(s, goal["eventType"], days)
    # Entered less than `days` ago: may still convert, so their branch's rate can still rise.
    recent = case((E.c.entered_at > at - timedelta(days=days), 1), else_=0)
    steps = {step["id"]: step for step in journey.steps}
    result["paths"] = _paths(s, journey.id, steps, converted, recent)
    result["overall"] = _figures(*(sum(path[key] for path in result["paths"])
                                   for key in ("n", "conversions", "open")))
    result["splits"] = _splits(s, journey.id, steps, converted, recent)
    return result


# ---- SQL -------------------------------------------------------------------------------------------------

def _converted(s: Session, event_type: str, days: int) -> ColumnElement[Any]:
    """1 when the enrollment's customer has a goal event in [entered_at, entered_at + days], else 0: an
    EXISTS per enrollment on the (customer_id, type) index of events."""
    exists = (
        select(literal(1))
        .where(V.c.customer_id == E.c.customer_id, V.c.type == event_type,
               V.c.occurred_at >= E.c.entered_at, V.c.occurred_at <= _plus_days(s, E.c.entered_at, days))
        .exists()
    )
    return case((exists, 1), else_=0)


def _plus_days(s: Session, moment: Any, days: int) -> ColumnElement[Any]:
    if s.get_bind().dialect.name == "sqlite":
        # SQLite keeps datetimes as text 'YYYY-MM-DD HH:MM:SS.ffffff'; strftime adds the days and writes
        # milliseconds, and '999' stands for the microseconds within that last millisecond.
        return func.strftime("%Y-%m-%d %H:%M:%f", moment, f"+{days} days").concat("999")
    return moment + timedelta(days=days)


def _paths(s: Session, journey_id: str, steps: dict[str, dict[str, Any]], converted: ColumnElement[Any],
           recent: ColumnElement[Any]) -> list[dict[str, Any]]:
    """One row per way the enrollments ended (the step and how), plus those still in the journey."""
    rows = s.execute(
        select(E.c.status, E.c.step_id, E.c.exit_reason, func.count(), func.coalesce(func.sum(converted), 0),
               func.coalesce(func.sum(recent), 0))
        .where(E.c.journey_id == journey_id).group_by(E.c.status, E.c.step_id, E.c.exit_reason)
    ).all()
    merged: dict[str, dict[str, Any]] = {}
    for status, step_id, reason, n, conversions, open_ in rows:
        key, label, where = _path_of(status, step_id, reason, steps)
        row = merged.setdefault(key, {"key": key, "label": label, "stepId": where, "n": 0, "conversions": 0,
                                      "open": 0})
        row["n"] += n
        row["conversions"] += int(conversions)
        row["open"] += int(open_)
    paths = [{**row, "rate": _rate(row["conversions"], row["n"])} for row in merged.values()]
    return sorted(paths, key=lambda row: (-row["n"], row["label"]))


def _path_of(status: str, step_id: str | None, reason: str | None,
             steps: dict[str, dict[str, Any]]) -> tuple[str, str, str | None]:
    """(key, what a marketer reads, the step) for one way of ending."""
    name = _step_name(steps, step_id)
    if status == "active":
        return IN_JOURNEY, "Still in the journey", None
    if status == "failed":
        return FAILED, "Failed", None
    if status == "completed":
        return f"completed:{step_id}", f"Completed at {name}", step_id
    if (steps.get(step_id or "") or {}).get("type") == "exit":
        return f"exit:{step_id}", f"Exited at {name}", step_id
    # Taken out by the journey's lifecycle (maxDuration, archiving, by hand), wherever they were.
    why = (reason or "exited").replace("_", " ")
    return f"left:{reason}", f"Left early: {why}", None


def _splits(s: Session, journey_id: str, steps: dict[str, dict[str, Any]], converted: ColumnElement[Any],
            recent: ColumnElement[Any]) -> list[dict[str, Any]]:
    """Each split step's branches with their conversion, and each branch compared with the first one."""
    # Each enrollment once per split step and branch, however often a loop took it through. The type is
    # written into the SQL (not bound) so both databases see that the partial index ix_history_split fits.
    taken = (
        select(H.c.enrollment_id, H.c.step_id, H.c.outcome)
        .where(H.c.journey_id == journey_id, H.c.type == literal("split", literal_execute=True))
        .distinct().subquery()
    )
    rows = s.execute(
        select(taken.c.step_id, taken.c.outcome, func.count(), func.coalesce(func.sum(converted), 0),
               func.coalesce(func.sum(recent), 0))
        .select_from(taken.join(E, E.c.id == taken.c.enrollment_id))
        .group_by(taken.c.step_id, taken.c.outcome)
    ).all()
    counted: dict[str, dict[str, tuple[int, int, int]]] = {}
    for step_id, label, n, conversions, open_ in rows:
        counted.setdefault(step_id, {})[label] = (n, int(conversions), int(open_))
    split_ids = [step_id for step_id, step in steps.items() if step.get("type") == "split"]
    split_ids += sorted(set(counted) - set(split_ids))  # split steps a later version removed
    return [_split(step_id, steps.get(step_id), counted.get(step_id, {})) for step_id in split_ids]


# ---- figures and the verdict -----------------------------------------------------------------------------

def _split(step_id: str, step: dict[str, Any] | None, counted: dict[str, tuple[int, int, int]]
           ) -> dict[str, Any]:
    labels = [path.get("label") or f"path {index + 1}"
              for index, path in enumerate(((step or {}).get("config") or {}).get("paths") or [])]
    labels += sorted(set(counted) - set(labels))
    branches = [{"label": label, **_figures(*counted.get(label, (0, 0, 0)))} for label in labels]
    control = branches[0] if branches else None
    for branch in branches[1:]:
        branch["difference"] = _difference(branch, control) if control else None
    return {"stepId": step_id, "stepName": _step_name({step_id: step} if step else {}, step_id),
            "removed": step is None, "control": control["label"] if control else None,
            "branches": branches, "verdict": verdict(branches)}


def _figures(n: int, conversions: int, open_: int) -> dict[str, Any]:
    return {"n": int(n), "conversions": int(conversions), "rate": _rate(int(conversions), int(n)),
            "open": int(open_)}


def _rate(conversions: int, n: int) -> float:
    return round(conversions / n, 6) if n else 0.0


def _difference(branch: dict[str, Any], control: dict[str, Any]) -> dict[str, float] | None:
    """The branch's rate minus the control's, with its 95% confidence interval (Newcombe's hybrid score
    interval, method 10 of Newcombe 1998); None while either branch is empty."""
    if not branch["n"] or not control["n"]:
        return None
    # Imported here: statsmodels (with pandas) takes a second or two to import, paid by the first use only.
    from statsmodels.stats.proportion import confint_proportions_2indep

    low, high = confint_proportions_2indep(
        branch["conversions"], branch["n"], control["conversions"], control["n"],
        method="newcomb", compare="diff", alpha=1 - CONFIDENCE,
    )
    value = branch["conversions"] / branch["n"] - control["conversions"] / control["n"]
    return {"value": round(value, 6), "low": round(float(low), 6), "high": round(float(high), 6)}


def verdict(branches: list[dict[str, Any]]) -> dict[str, Any]:
    """Which branch wins, in a sentence: a branch wins when the confidence interval of its difference from
    the control lies wholly above zero (or, for the control, when every other branch's lies below zero)."""
    if len(branches) < 2:
        return {"winner": None, "enough": False, "text": "A split needs two branches to compare."}
    smallest = min(branches, key=lambda branch: branch["n"])
    if smallest["n"] < MIN_PER_BRANCH:
        return {"winner": None, "enough": False,
                "text": f"Not enough data yet: each branch needs at least {MIN_PER_BRANCH} customers "
                        f"({smallest['label']} has {smallest['n']:,})."}
    control, others = branches[0], branches[1:]
    better = [branch for branch in others if branch["difference"]["low"] > 0]
    if better:
        best = max(better, key=lambda branch: branch["difference"]["value"])
        return {"winner": best["label"], "enough": True,
                "text": _lead(best["label"], control["label"], best["difference"], 1)}
    if all(branch["difference"]["high"] < 0 for branch in others):
        closest = max(others, key=lambda branch: branch["difference"]["value"])
        return {"winner": control["label"], "enough": True,
                "text": _lead(control["label"], closest["label"], closest["difference"], -1)}
    nearest = max(others, key=lambda branch: branch["difference"]["value"])
    return {"winner": None, "enough": True,
            "text": "No clear winner yet: " + _versus(nearest["label"], control["label"],
                                                      nearest["difference"])}


def _lead(winner: str, loser: str, difference: dict[str, float], sign: int) -> str:
    """'B converts 4.1 pts better than A (95% CI 1.2 to 7.0)'; with sign -1 the difference given is
    loser minus winner."""
    value, low, high = (sign * difference[key] * 100 for key in ("value", "low", "high"))
    low, high = min(low, high), max(low, high)
    return f"{winner} converts {value:.1f} pts better than {loser} (95% CI {low:.1f} to {high:.1f})"


def _versus(branch: str, control: str, difference: dict[str, float]) -> str:
    value, low, high = (difference[key] * 100 for key in ("value", "low", "high"))
    return f"{branch} vs {control}: {value:+.1f} pts (95% CI {low:.1f} to {high:.1f})"


def _step_name(steps: dict[str, dict[str, Any]], step_id: str | None) -> str:
    step = steps.get(step_id or "")
    return (step or {}).get("name") or step_id or "—"
