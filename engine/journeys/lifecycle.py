"""The journey lifecycle: create, read, list, update, status changes, delete, versions, import/export.

Rules (DESIGN.md): draft — anything goes; active — only name/description (structure: "pause first");
paused — structural edits if they validate and remove no step that still holds customers; archived —
read-only. A draft's edits (autosaves) update its one version in place; once activated, every structural
change (steps, entryConditions, maxDuration, timezone; only possible while paused) bumps `version` and
stores a JourneyVersion row. Moving steps on the canvas (positions only) is layout, not structure: it is saved
without a new version, and allowed while active or paused. So is the goal: it measures, it does not steer
(a live journey's goal must be complete, though).

Every change also bumps `revision`; a writer may name the revisions it expects (the API's If-Match) and
gets 412 `stale` when the journey changed since it read it, instead of overwriting that change.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func, select
from sqlmodel import Session

from engine import signals
from engine.engine import Engine
from engine.errors import Conflict, Invalid, JourneysError, NotFound
from engine.expressions import Limits
from engine.ids import new_id
from engine.journeys.validation import field_path, goal_issues, shape_issues, validate, zone_issues
from engine.paging import paginate
from engine.records import matching
from engine.references import load_references
from engine.unit_of_work import UnitOfWork
from models.channels import Delivery, DeliveryAttempt, DeliveryCounter, Response, ResponseCounter
from models.common import iso
from models.enrollment import (
    EdgeCounter,
    Enrollment,
    EnrollmentHistory,
    JourneyCounter,
    SegmentBackfill,
    SeriesCounter,
    StepCounter,
)
from models.journey import (
    STATUSES,
    Journey,
    JourneyCreate,
    JourneyDefinition,
    JourneyImport,
    JourneyOut,
    JourneyUpdate,
    JourneyVersion,
    ValidationResult,
)

TRANSITIONS = {
    "draft": ("active", "archived"),
    "active": ("paused", "archived"),
    "paused": ("active", "archived"),
    "archived": (),
}
STRUCTURE = ("max_duration", "entry_conditions", "steps", "goal", "timezone")
# Structure that may be absent: a writer sends null to clear it (another field's null means "unchanged"),
# and the stored form leaves it out.
CLEARABLE = ("goal", "timezone")
# Rows that belong to one journey and go when it is deleted (every table with a journey_id).
OWNED_ROWS = (
    JourneyVersion, Enrollment, EnrollmentHistory, StepCounter, EdgeCounter, JourneyCounter, SeriesCounter,
    SegmentBackfill, Delivery, DeliveryCounter, Response, ResponseCounter,
)


class Stale(JourneysError):
    """The journey changed since the writer read it (its revision is not the one the writer expects)."""

    status = 412
    code = "stale"


class _EditorDocument(JourneyDefinition):
    """An unsaved document from the editor: the definition, plus whatever else it carries (ignored)."""

    model_config = {"extra": "ignore"}


# ---- reads ----------------------------------------------------------------------------------------------

def get_journey(engine: Engine, journey_id: str) -> JourneyOut:
    with engine.db.reader() as s:
        return _out(_row(s, journey_id))


def list_journeys(engine: Engine, status: str | None = None, limit: int = 50, offset: int = 0,
                  search: str | None = None) -> dict[str, Any]:
    """One page of journeys, most recently updated first, as the `{data, pagination}` envelope."""
    statement = select(Journey)
    if status is not None:
        if status not in STATUSES:
            raise Invalid(f"status must be one of {', '.join(STATUSES)}", field="status")
        statement = statement.where(Journey.status == status)
    statement = matching(statement, search, Journey.name, Journey.id)
    statement = statement.order_by(Journey.updated_at.desc(), Journey.id)  # type: ignore[attr-defined]
    with engine.db.reader() as s:
        return paginate(s, statement, limit, offset, lambda row: _out(row).model_dump(by_alias=True))


def load_definition(s: Session, journey_id: str) -> tuple[Journey, JourneyDefinition]:
    """The journey row and its parsed definition (NotFound when there is no such journey)."""
    row = _row(s, journey_id)
    return row, _definition(row)


def list_versions(engine: Engine, journey_id: str) -> list[dict[str, Any]]:
    """Every structural definition the journey has had, newest first, the current one included."""
    with engine.db.reader() as s:
        _row(s, journey_id)
        rows = s.execute(
            select(JourneyVersion).where(JourneyVersion.journey_id == journey_id)
            .order_by(JourneyVersion.version.desc())  # type: ignore[attr-defined]
        ).scalars().all()
        return [{"version": row.version, "createdAt": iso(row.created_at), **row.definition} for row in rows]


def export_journey(engine: Engine, journey_id: str) -> dict[str, Any]:
    """The whole document as JSON; `import_journey` turns it back into an identical (new, draft) journey.
    When it was paused is run-time state, not part of the document."""
    return get_journey(engine, journey_id).model_dump(by_alias=True, exclude_none=True, exclude={"paused_at"})


# ---- validation -----------------------------------------------------------------------------------------

def validate_journey(engine: Engine, journey_id: str) -> ValidationResult:
    with engine.db.reader() as s:
        _, definition = load_definition(s, journey_id)
        return _result(validate(definition, load_references(s), Limits.of(engine.settings)))


def validate_document(engine: Engine, doc: dict[str, Any]) -> ValidationResult:
    """Validate an unsaved document; shape problems come back as `invalid_shape` errors, never raised."""
    try:
        definition = _EditorDocument.model_validate(doc)
    except ValidationError as error:
        return _result(shape_issues(error, doc))
    with engine.db.reader() as s:
        return _result(validate(definition, load_references(s), Limits.of(engine.settings)))


# ---- writes ---------------------------------------------------------------------------------------------

def create_journey(engine: Engine, data: JourneyCreate) -> JourneyOut:
    """A new draft at version 1."""
    _require_known_zone(data.timezone)
    moment = engine.now()
    definition = _canonical(data)
    row = Journey(id=new_id("jrn"), name=data.name, description=data.description, status="draft",
                  max_duration=definition["maxDuration"], entry_conditions=definition["entryConditions"],
                  steps=definition["steps"], goal=definition.get("goal"), timezone=definition.get("timezone"),
                  version=1, created_at=moment, updated_at=moment)
    with engine.session() as s:
        s.add(row)
        s.add(JourneyVersion(journey_id=row.id, version=1, definition=definition, created_at=moment))
        s.flush()
        return _out(row)


def import_journey(engine: Engine, doc: dict[str, Any]) -> JourneyOut:
    """A draft copy of an exported document under a new id (id, status, version, timestamps are ignored)."""
    try:
        data = JourneyImport.model_validate(doc)
    except ValidationError as error:
        raise _invalid(error) from error
    return create_journey(engine, data)


def duplicate_journey(engine: Engine, journey_id: str) -> JourneyOut:
    doc = export_journey(engine, journey_id)
    suffix = " (copy)"
    doc["name"] = doc["name"][: 255 - len(suffix)] + suffix
    return import_journey(engine, doc)


def update_journey(engine: Engine, journey_id: str, data: JourneyUpdate,
                   expected_revisions: Collection[int] | None = None) -> JourneyOut:
    """Apply the given fields under the current status's rules, then the status change if any; with
    `expected_revisions`, only if the journey's revision is one of them (else Stale, 412).

    All or nothing: any refusal rolls the whole update back."""
    with engine.unit_of_work() as uow:
        s = uow.session
        row = _row(s, journey_id, lock=True)
        if expected_revisions is not None and row.revision not in expected_revisions:
            raise Stale(f"the journey changed since you read it (it is at revision {row.revision}): "
                        "reload it and apply your change again", details={"revision": row.revision})
        moment = engine.now()
        before = _content(row)
        _apply_fields(s, row, data, moment, Limits.of(engine.settings))
        if data.status is not None:
            _transition(uow, row, data.status, data.extend_waits, moment)
        _count_revision(row, before)
        s.flush()
        return _out(row)


def change_status(engine: Engine, journey_id: str, status: str, extend_waits: bool = False) -> JourneyOut:
    """Move the journey along its lifecycle (asking the same status again changes nothing)."""
    if status not in STATUSES:
        raise Invalid(f"status must be one of {', '.join(STATUSES)}", field="status")
    with engine.unit_of_work() as uow:
        s = uow.session
        row = _row(s, journey_id, lock=True)
        before = _content(row)
        _transition(uow, row, status, extend_waits, engine.now())
        _count_revision(row, before)
        s.flush()
        return _out(row)


def delete_journey(engine: Engine, journey_id: str) -> None:
    """Delete a draft or archived journey with everything it owns: versions, enrollments, history,
    deliveries (with their attempts), responses and counters. Messages already in an inbox stay there."""
    with engine.session() as s:
        row = _row(s, journey_id, lock=True)
        if row.status not in ("draft", "archived"):
            raise Conflict(f"the journey is {row.status}: archive it first", code="archive_first",
                           details={"status": row.status})
        # Attempts are keyed by their delivery, so they go before the deliveries do.
        s.execute(delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(  # type: ignore[attr-defined]
            select(Delivery.id).where(Delivery.journey_id == journey_id))))
        for model in OWNED_ROWS:
            s.execute(delete(model).where(model.journey_id == journey_id))  # type: ignore[attr-defined]
        s.delete(row)


# ---- rules ----------------------------------------------------------------------------------------------

def _apply_fields(s: Session, row: Journey, data: JourneyUpdate, moment: datetime, limits: Limits) -> None:
    # A goal or zone sent as null is a change too: it removes the goal, or the zone (the default applies).
    given = {name for name in data.model_fields_set if getattr(data, name) is not None or name in CLEARABLE}
    changes = given - {"status", "extend_waits"}
    if not changes:
        return
    if row.status == "archived":
        raise Conflict("the journey is archived: it is read-only", code="read_only")
    if given & set(STRUCTURE):
        _apply_structure(s, row, data, moment, limits)
    if data.name is not None:
        row.name = data.name
    if data.description is not None:
        row.description = data.description
    row.updated_at = moment


def _apply_structure(s: Session, row: Journey, data: JourneyUpdate, moment: datetime, limits: Limits) -> None:
    current = _stored(row)
    entry = data.entry_conditions if data.entry_conditions is not None else row.entry_conditions
    merged = JourneyDefinition.model_validate({
        "maxDuration": data.max_duration if data.max_duration is not None else row.max_duration,
        "entryConditions": entry,
        "steps": data.steps if data.steps is not None else row.steps,
        "goal": data.goal if "goal" in data.model_fields_set else row.goal,
        "timezone": data.timezone if "timezone" in data.model_fields_set else row.timezone,
    })
    if "timezone" in data.model_fields_set:
        _require_known_zone(data.timezone)
    proposed = _canonical(merged)
    if proposed == current:
        return
    if row.status != "draft" and proposed.get("goal") != current.get("goal"):
        _require_complete_goal(merged)
    if row.status == "draft" or _without_layout(proposed) == _without_layout(current):
        # A draft's edit, or positions only: no new version; the current one keeps up with the document.
        _store(row, proposed)
        version = s.execute(select(JourneyVersion).where(
            JourneyVersion.journey_id == row.id, JourneyVersion.version == row.version)).scalar_one_or_none()
        if version is not None:
            version.definition = proposed
        return
    if row.status == "active":
        raise Conflict("the journey is active: pause the journey first to change its structure",
                       code="pause_first", details={"fields": sorted(_changed_fields(current, proposed))})
    if row.status == "paused":
        _check_paused_edit(s, row, merged, current, proposed, limits)
    _store(row, proposed)
    row.version += 1
    s.add(JourneyVersion(journey_id=row.id, version=row.version, definition=proposed, created_at=moment))


def _require_valid(s: Session, definition: JourneyDefinition, message: str, limits: Limits) -> None:
    """409 `validation_failed` listing the errors, if there are any."""
    issues = validate(definition, load_references(s), limits)
    errors = [issue for issue in issues if issue.severity == "error"]
    if errors:
        raise Conflict(message, code="validation_failed",
                       details={"issues": [issue.model_dump(by_alias=True) for issue in errors]})


def _require_complete_goal(definition: JourneyDefinition) -> None:
    """A live journey's goal may change without pausing (it only measures), but not to an incomplete one."""
    issues = goal_issues(definition.goal)
    if issues:
        raise Invalid(f"goal: {issues[0].message}", field="goal.eventType")


def _require_known_zone(timezone: str | None) -> None:
    """A journey's zone is an IANA name when it is written (422 naming `timezone`), never a surprise later."""
    issues = zone_issues(timezone)
    if issues:
        raise Invalid(issues[0].message, field="timezone")


def _check_paused_edit(s: Session, row: Journey, merged: JourneyDefinition, current: dict[str, Any],
                       proposed: dict[str, Any], limits: Limits) -> None:
    _require_valid(s, merged, "the change does not validate; a paused journey must stay valid", limits)
    removed = {step["id"] for step in current["steps"]} - {step["id"] for step in proposed["steps"]}
    if not removed:
        return
    occupied = s.execute(
        select(Enrollment.step_id, func.count()).where(
            Enrollment.journey_id == row.id, Enrollment.status == "active",
            Enrollment.step_id.in_(removed),  # type: ignore[union-attr]
        ).group_by(Enrollment.step_id).order_by(Enrollment.step_id)
    ).all()
    if occupied:
        raise Conflict(
            "customers are still at steps this change removes: " + ", ".join(step for step, _ in occupied),
            code="steps_occupied",
            details={"steps": [{"stepId": step, "enrollments": count} for step, count in occupied]},
        )


def _transition(uow: UnitOfWork, row: Journey, status: str, extend_waits: bool, moment: datetime) -> None:
    old = row.status
    if status == old:
        return
    if status not in TRANSITIONS[old]:
        allowed = ", ".join(TRANSITIONS[old]) or "nothing"
        raise Conflict(f"a {old} journey cannot become {status} (allowed: {allowed})",
                       code="invalid_transition",
                       details={"from": old, "to": status, "allowed": list(TRANSITIONS[old])})
    if status == "active":
        _require_valid(uow.session, _definition(row), "the journey has validation errors",
                       Limits.of(uow.engine.settings))
    row.status = status
    row.updated_at = moment
    if status == "paused":
        row.paused_at = moment
    uow.session.flush()
    # The runtime enrolls on activation, exits everyone on archive and shifts waits on resume; it reads
    # `paused_at`, so that is cleared only after the receivers ran.
    signals.journey_status_changed.send(uow=uow, journey=row, old=old, new=status, now=moment,
                                        options={"extend_waits": extend_waits}, engine=uow.engine)
    if status != "paused":
        row.paused_at = None


# ---- helpers --------------------------------------------------------------------------------------------

def _content(row: Journey) -> tuple[Any, ...]:
    """What a revision covers: everything a reader of the journey sees, except the update time."""
    return (row.name, row.description, row.status, row.max_duration, row.entry_conditions, row.steps,
            row.goal, row.timezone, row.version, row.paused_at)


def _count_revision(row: Journey, before: tuple[Any, ...]) -> None:
    """One more revision if the journey changed since `before` (asking for what it already is does not)."""
    if _content(row) != before:
        row.revision += 1


def _row(s: Session, journey_id: str, lock: bool = False) -> Journey:
    statement = select(Journey).where(Journey.id == journey_id)
    if lock:
        statement = statement.with_for_update()
    row = s.execute(statement).scalar_one_or_none()
    if row is None:
        raise NotFound(f"journey '{journey_id}' not found", details={"id": journey_id})
    return row


def _canonical(definition: JourneyDefinition) -> dict[str, Any]:
    """The stored (and exported) wire form of a definition: camelCase, defaults spelled out, no nulls."""
    dumped = definition.model_dump(by_alias=True, mode="json", exclude_none=True,
                                   include=set(STRUCTURE))
    canonical = {"maxDuration": dumped["maxDuration"], "entryConditions": dumped["entryConditions"],
                 "steps": dumped["steps"]}
    for key in CLEARABLE:
        if key in dumped:
            canonical[key] = dumped[key]
    return canonical


def _stored(row: Journey) -> dict[str, Any]:
    stored = {"maxDuration": row.max_duration, "entryConditions": row.entry_conditions, "steps": row.steps}
    if row.goal is not None:
        stored["goal"] = row.goal
    if row.timezone is not None:
        stored["timezone"] = row.timezone
    return stored


def _store(row: Journey, definition: dict[str, Any]) -> None:
    row.max_duration = definition["maxDuration"]
    row.entry_conditions = definition["entryConditions"]
    row.steps = definition["steps"]
    row.goal = definition.get("goal")
    row.timezone = definition.get("timezone")


def _definition(row: Journey) -> JourneyDefinition:
    return JourneyDefinition.model_validate(_stored(row))


def _without_layout(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition without what only shows or measures it (positions, the goal): no new version."""
    steps = [{key: value for key, value in step.items() if key != "position"} for step in definition["steps"]]
    return {**definition, "steps": steps, "goal": None}


def _changed_fields(current: dict[str, Any], proposed: dict[str, Any]) -> set[str]:
    # A zone appears in one of them only (null is left out).
    before, after = _without_layout(current), _without_layout(proposed)
    return {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}


def _out(row: Journey) -> JourneyOut:
    return JourneyOut(
        id=row.id, name=row.name, description=row.description, status=row.status,  # type: ignore[arg-type]
        max_duration=row.max_duration, entry_conditions=row.entry_conditions, steps=row.steps,
        version=row.version, revision=row.revision, created_at=iso(row.created_at) or "",
        updated_at=iso(row.updated_at) or "",
        paused_at=iso(row.paused_at), goal=row.goal, timezone=row.timezone,
    )


def _result(issues: list[Any]) -> ValidationResult:
    return ValidationResult(valid=not any(issue.severity == "error" for issue in issues), issues=issues)


def _invalid(error: ValidationError) -> Invalid:
    items = [{"field": field_path(item.get("loc", ())), "message": item.get("msg", "invalid")}
             for item in error.errors()]
    first = items[0] if items else {"field": "body", "message": "invalid"}
    return Invalid(f"{first['field']}: {first['message']}",
                   details={"field": first["field"], "errors": items[:50]})

