"""The audit log: who created, changed, activated, paused, archived or deleted what, and when.

Changes are recorded by a SQLAlchemy `before_flush` hook, so every path that changes an audited row — API,
pages, bootstrap — writes its entry in the same transaction as the change (both commit or neither), and the
same hook refuses a change the acting role may not make (`roles.needed_for`). Customers are policed but not
recorded (they are data, imported by the thousand). Changes made with no actor (the scheduler moving
enrollments, the demo seed) are the engine's own work and are not recorded. Sign-in lockouts are recorded
too (`record_lockout`): the first time an account or a client address must wait after failed sign-ins.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event, inspect, select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import ORMExecuteState, Session, attributes

from engine.access import roles
from engine.db import ActingSession
from engine.engine import Engine
from engine.paging import paginate
from models.access import ApiKey, AuditEntry, AuditEntryOut, User
from models.audience import Customer, Segment
from models.channels import Channel
from models.common import iso
from models.journey import Journey
from models.offers import DecisionFlow, Offer


@dataclass(frozen=True)
class Audited:
    entity_type: str
    label: str  # attribute naming the row for people
    ignored: frozenset[str] = frozenset({"updated_at", "created_at"})
    recorded: bool = True  # False: policed only (customers: data, not configuration, and many)


AUDITED: dict[type, Audited] = {
    Journey: Audited(
        "journey", "name", frozenset({"updated_at", "created_at", "paused_at", "version", "revision"})
    ),
    Segment: Audited("segment", "name"),
    Offer: Audited("offer", "name"),
    DecisionFlow: Audited("decision_flow", "name"),
    Channel: Audited("channel", "name"),
    User: Audited(
        "user", "email", frozenset({"updated_at", "created_at", "last_login_at", "session_version"})
    ),
    ApiKey: Audited("api_key", "name", frozenset({"created_at", "last_used_at"})),
    Customer: Audited("customer", "id", recorded=False),
}
# Tables whose bulk statements (imports) are policed like their rows: the ORM hook does not see those.
BULK_POLICED = {"customer": "customer"}
BULK_ACTIONS = {"is_insert": "created", "is_update": "updated", "is_delete": "deleted"}
STATUS_ACTIONS = {"active": "activated", "paused": "paused", "archived": "archived"}
# Column names shown in an entry's `fields`: secrets are named, never shown (and only by what they are).
SHOWN_AS = {"password_hash": "password", "digest": "key"}


# Each connected engine, by its database's dialect: one per create_engine, shared by the database's writers,
# readers and their connections (and kept when the pool is disposed). A session's changes are policed and
# recorded by the engine whose database it works on, stamped by that engine's clock; weak both ways, so an
# engine its process has dropped leaves nothing behind.
_connected: WeakKeyDictionary[Dialect, weakref.ref[Engine]] = WeakKeyDictionary()


def connect(engine: Engine) -> None:
    """Record (and police) every audited change made from now on in `engine`'s sessions (idempotent)."""
    _connected[engine.db.engine.dialect] = weakref.ref(engine)
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "do_orm_execute", _police_bulk)


def _engine_of(session: Session) -> Engine | None:
    """The connected engine whose database `session` works on, or None (its changes are not audited)."""
    bind = session.bind
    found = _connected.get(bind.dialect) if bind is not None else None
    return found() if found is not None else None


def _actor_of(session: Session) -> roles.Actor | None:
    """Who the session's changes are made by: an engine's sessions know (engine.db.ActingSession); any other
    session is the engine's own work."""
    return session.actor if isinstance(session, ActingSession) else None


def _police_bulk(state: ORMExecuteState) -> None:
    """Refuse a bulk insert, update or delete on a policed table that the actor's role may not make."""
    actor = _actor_of(state.session)
    if actor is None or _engine_of(state.session) is None:
        return
    action = next((name for flag, name in BULK_ACTIONS.items() if getattr(state, flag)), None)
    table = getattr(getattr(state.statement, "table", None), "name", None)
    if action is not None and table in BULK_POLICED:
        entity = BULK_POLICED[table]
        roles.require(actor, roles.needed_for(entity, action), f"{roles.verb(action)} {entity}s")


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    actor = _actor_of(session)
    if actor is None or (engine := _engine_of(session)) is None:
        return
    changes: list[tuple[Any, Audited, str, dict[str, Any]]] = []
    for row in session.new:
        if (audited := AUDITED.get(type(row))) is not None:
            changes.append((row, audited, "created", {}))
    for row in session.dirty:
        if (audited := AUDITED.get(type(row))) is not None and session.is_modified(row):
            changes.extend((row, audited, action, details) for action, details in _edits(row, audited))
    for row in session.deleted:
        if (audited := AUDITED.get(type(row))) is not None:
            changes.append((row, audited, "deleted", {}))
    moment = engine.now()
    for row, audited, action, details in changes:
        roles.require(
            actor,
            roles.needed_for(audited.entity_type, action),
            f"{roles.verb(action)} {audited.entity_type.replace('_', ' ')}s",
        )
        if not audited.recorded:
            continue
        session.add(
            AuditEntry(
                at=moment,
                actor=actor.label,
                role=actor.role,
                action=action,
                entity_type=audited.entity_type,
                entity_id=str(row.id),
                entity_name=str(getattr(row, audited.label, ""))[:255],
                details=details,
            )
        )


def record_lockout(
    engine: Engine, s: Session, kind: str, name: str, actor: str, failures: int, wait_seconds: int
) -> None:
    """An account or client address (`kind`) must now wait after `failures` failed sign-ins by `actor`."""
    s.add(
        AuditEntry(
            at=engine.now(),
            actor=actor[:255],
            role="",
            action="locked",
            entity_type=kind,
            entity_id=name[:128],
            entity_name=name[:255],
            details={"failures": failures, "waitSeconds": wait_seconds},
        )
    )


def _edits(row: Any, audited: Audited) -> list[tuple[str, dict[str, Any]]]:
    """What changed on a modified row: a status move (journeys), a revocation (keys), other fields."""
    state = inspect(row)
    changed = [
        attr.key
        for attr in state.mapper.column_attrs
        if attr.key not in audited.ignored and attributes.get_history(row, attr.key).has_changes()
    ]
    edits: list[tuple[str, dict[str, Any]]] = []
    if isinstance(row, Journey) and "status" in changed:
        changed.remove("status")
        old = attributes.get_history(row, "status").deleted
        before = old[0] if old else None
        action = "resumed" if (before, row.status) == ("paused", "active") else STATUS_ACTIONS.get(row.status)
        edits.append((action or "updated", {"from": before, "to": row.status}))
    if isinstance(row, ApiKey) and "revoked_at" in changed and row.revoked_at is not None:
        changed.remove("revoked_at")
        edits.append(("revoked", {}))
    if changed:
        details: dict[str, Any] = {"fields": sorted(SHOWN_AS.get(name, name) for name in changed)}
        if isinstance(row, Journey):
            details["version"] = row.version
        edits.insert(0, ("updated", details))
    return edits


def list_entries(
    engine: Engine,
    limit: int = 50,
    offset: int = 0,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
) -> dict[str, Any]:
    """One page of the log, newest first, as the `{data, pagination}` envelope; optionally one entity's
    entries or one actor's."""
    statement = select(AuditEntry)
    if entity_type:
        statement = statement.where(AuditEntry.entity_type == entity_type)
    if entity_id:
        statement = statement.where(AuditEntry.entity_id == entity_id)
    if actor:
        statement = statement.where(AuditEntry.actor == actor)
    statement = statement.order_by(AuditEntry.id.desc())  # type: ignore[union-attr]
    with engine.db.reader() as s:
        return paginate(s, statement, limit, offset, lambda row: _out(row).model_dump(by_alias=True))


def _out(row: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        id=row.id or 0,
        at=iso(row.at) or "",
        actor=row.actor,
        role=row.role,
        action=row.action,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        entity_name=row.entity_name,
        details=row.details,
    )
