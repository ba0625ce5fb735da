"""Segments: rule segments (CEL over `customer`) with materialised membership, and static segments.

Every join and leave writes a SegmentChange row and announces `signals.segment_membership_changed` inside the
caller's transaction, so the runtime can enroll on "joined segment" without ever missing one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlmodel import Session

from engine import signals
from engine.engine import Engine
from engine.errors import Conflict, Invalid, NotFound
from engine.expressions import Limits, Scope, check, fields, is_true, project
from engine.ids import new_id
from engine.paging import paginate
from engine.records import fetch, insert_new, matching
from engine.references import check_unused
from engine.unit_of_work import UnitOfWork
from models.audience import Customer, Segment, SegmentChange, SegmentIn, SegmentMember, SegmentUpdate
from models.common import iso

# (customer_id, segment_id, joined)
Change = tuple[str, str, bool]

_MEMBERS = SegmentMember.__table__  # type: ignore[attr-defined]
_CHANGES = SegmentChange.__table__  # type: ignore[attr-defined]

# Keeps IN (...) lists and re-evaluation batches well under every database's parameter limits.
BATCH = 500


# ---- customer views (the CEL `customer` map) ---------------------------------------------------------

def memberships(session: Session, customer_ids: Iterable[str]) -> dict[str, set[str]]:
    """Current segment ids of each given customer."""
    found: dict[str, set[str]] = defaultdict(set)
    for chunk in _chunks(list(customer_ids)):
        rows = session.execute(select(SegmentMember.customer_id, SegmentMember.segment_id)
                               .where(SegmentMember.customer_id.in_(chunk))).all()
        for customer_id, segment_id in rows:
            found[customer_id].add(segment_id)
    return found


def view_of(row: Customer, segment_ids: Iterable[str]) -> dict[str, Any]:
    """Attributes plus `id`, `segments` and `flags`: what CEL and templates see as `customer`."""
    view = dict(row.attributes or {})
    view["id"] = row.id
    view["segments"] = sorted(segment_ids)
    view["flags"] = dict(row.flags or {})
    return view


def customer_views(session: Session, customer_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The CEL view of each existing customer among `customer_ids`."""
    ids = list(dict.fromkeys(customer_ids))
    rows = _load_customers(session, ids)
    member_of = memberships(session, ids)
    return {row.id: view_of(row, member_of.get(row.id, ())) for row in rows}


def _load_customers(session: Session, ids: list[str]) -> list[Customer]:
    rows: list[Customer] = []
    for chunk in _chunks(ids):
        rows.extend(session.execute(select(Customer).where(Customer.id.in_(chunk))).scalars())
    return rows


# ---- re-evaluation -----------------------------------------------------------------------------------

def rule_segments(session: Session) -> list[tuple[str, str]]:
    """(id, rule) of every rule segment."""
    rows = session.execute(select(Segment.id, Segment.rule).where(Segment.rule.is_not(None))).all()
    return [(segment_id, rule) for segment_id, rule in rows if rule]


def matches(engine: Engine, rule: str, scope: Scope) -> bool:
    """A customer belongs to a rule segment when the rule is true; an error means not a member."""
    return is_true(engine, rule, scope)[0]


def customer_scope(view: dict[str, Any], rules: Iterable[str], now: datetime) -> Scope:
    """The CEL scope every rule of one customer's re-evaluation runs against: converted once, and holding
    only the customer fields the rules read (conversion, not evaluation, is the cost)."""
    read: set[str] | None = set()
    for rule in rules:
        more = fields(rule, "customer")
        read = None if read is None or more is None else read | more
    return Scope({"customer": project(view, None if read is None else frozenset(read)), "now": now})


def reevaluate(uow: UnitOfWork, customer_id: str, now: datetime) -> list[Change]:
    """Bring one customer's rule-segment membership up to date (no commit)."""
    return reevaluate_many(uow, [customer_id], now)


def reevaluate_many(uow: UnitOfWork, customer_ids: Iterable[str], now: datetime) -> list[Change]:
    """Bring the rule-segment membership of many customers up to date in batches (no commit)."""
    segments = rule_segments(uow.session)
    if not segments:
        return []
    changes: list[Change] = []
    for chunk in _chunks(list(dict.fromkeys(customer_ids))):
        changes.extend(_reevaluate_rows(uow, _load_customers(uow.session, chunk), segments, now))
    return changes


def rule_changes(engine: Engine, row: Customer, current: set[str], segments: list[tuple[str, str]],
                 now: datetime) -> list[Change]:
    """The joins/leaves of rule segments that `row` (currently in `current`) should make."""
    scope = customer_scope(view_of(row, current), (rule for _segment_id, rule in segments), now)
    changes: list[Change] = []
    for segment_id, rule in segments:
        wanted = matches(engine, rule, scope)
        if wanted != (segment_id in current):
            changes.append((row.id, segment_id, wanted))
    return changes


def _reevaluate_rows(uow: UnitOfWork, rows: list[Any], segments: list[tuple[str, str]],
                     now: datetime) -> list[Change]:
    member_of = memberships(uow.session, [row.id for row in rows])
    changes = [change for row in rows
               for change in rule_changes(uow.engine, row, member_of.get(row.id, set()), segments, now)]
    apply_changes(uow, changes, now)
    return changes


def rebuild(uow: UnitOfWork, segment_id: str, rule: str, now: datetime) -> int:
    """Re-evaluate one rule over every customer, keyset batch by batch; returns how many changed."""
    changed = 0
    after = ""
    while True:
        # Plain rows (id, attributes, flags), not ORM objects: loading those was most of a rebuild's time.
        columns = Customer.__table__.c  # type: ignore[attr-defined]
        rows = list(uow.session.execute(
            select(columns.id, columns.attributes, columns.flags).where(columns.id > after)
            .order_by(columns.id).limit(BATCH)
        ).all())
        if not rows:
            return changed
        changed += len(_reevaluate_rows(uow, rows, [(segment_id, rule)], now))
        after = rows[-1].id


def apply_changes(uow: UnitOfWork, changes: list[Change], now: datetime) -> None:
    """Write memberships and the change log for `changes`, then announce them (same transaction)."""
    if not changes:
        return
    uow.session.flush()
    joins = [{"segment_id": s, "customer_id": c, "joined_at": now} for c, s, joined in changes if joined]
    if joins:
        # Core inserts on the tables: the ORM bulk path costs more than the statement on this hot path.
        uow.session.execute(insert(_MEMBERS), joins)
    leaves: dict[str, list[str]] = defaultdict(list)
    for customer_id, segment_id, joined in changes:
        if not joined:
            leaves[segment_id].append(customer_id)
    for segment_id, customer_ids in leaves.items():
        for chunk in _chunks(customer_ids):
            uow.session.execute(delete(SegmentMember).where(
                SegmentMember.segment_id == segment_id, SegmentMember.customer_id.in_(chunk)))
    uow.session.execute(insert(_CHANGES), [
        {"segment_id": s, "customer_id": c, "joined": joined, "at": now} for c, s, joined in changes
    ])
    signals.segment_membership_changed.send(uow=uow, changes=changes, now=now, engine=uow.engine)


def leave_all(uow: UnitOfWork, customer_id: str, now: datetime) -> None:
    """Take a (deleted) customer out of every segment, logging the leaves."""
    current = memberships(uow.session, [customer_id]).get(customer_id, set())
    apply_changes(uow, [(customer_id, segment_id, False) for segment_id in sorted(current)], now)


def member_ids(session: Session, segment_id: str, after: str | None, limit: int) -> list[str]:
    """Members in customer-id order after `after`: keyset batches for enrolling a whole segment."""
    statement = select(SegmentMember.customer_id).where(SegmentMember.segment_id == segment_id)
    if after is not None:
        statement = statement.where(SegmentMember.customer_id > after)
    return list(session.execute(statement.order_by(SegmentMember.customer_id).limit(limit)).scalars())


def check_static(session: Session, segment_id: str, field: str) -> None:
    """Only an existing static segment takes explicit members (NotFound / Conflict naming `field`)."""
    segment = session.get(Segment, segment_id)
    if segment is None:
        raise NotFound(f"segment {segment_id} not found", {"field": field})
    if not segment.static:
        raise Conflict(f"segment {segment_id} follows its rule; only static segments take explicit members",
                       {"field": field})


def static_changes(session: Session, segment_id: str, customer_ids: Iterable[str], join: bool,
                   field: str) -> list[Change]:
    """The changes that adding/removing customers to/from a static segment would make."""
    check_static(session, segment_id, field)
    ids = list(dict.fromkeys(customer_ids))
    members: set[str] = set()
    for chunk in _chunks(ids):
        members.update(session.execute(select(SegmentMember.customer_id).where(
            SegmentMember.segment_id == segment_id, SegmentMember.customer_id.in_(chunk))).scalars())
    return [(c, segment_id, join) for c in ids if (c in members) != join]


# ---- segment administration (API and pages) ----------------------------------------------------------

def create_segment(engine: Engine, data: SegmentIn) -> dict[str, Any]:
    """Create a segment; a rule segment's membership is computed at once."""
    _check_rule(engine, data.rule)
    moment = engine.now()
    with engine.unit_of_work() as uow:
        s = uow.session
        values = {"name": data.name, "description": data.description,
                  "rule": None if data.static else data.rule, "static": data.static}
        row = insert_new(s, Segment, "segment", data.id or new_id("seg"), values, moment)
        s.flush()
        if row.rule:
            rebuild(uow, row.id, row.rule, moment)
        return _out(row, _count(s, row.id))


def get_segment(engine: Engine, segment_id: str) -> dict[str, Any]:
    with engine.reader() as s:
        row = _segment(s, segment_id)
        return _out(row, _count(s, row.id))


def list_segments(
    engine: Engine, search: str | None = None, limit: int = 50, offset: int = 0
) -> dict[str, Any]:
    """Segments by name with their member counts."""
    with engine.reader() as s:
        statement = matching(select(Segment).order_by(Segment.name, Segment.id), search, Segment.id,
                             Segment.name)
        page = paginate(s, statement, limit, offset, lambda row: row)
        counts = _counts(s, [row.id for row in page["data"]])
        page["data"] = [_out(row, counts.get(row.id, 0)) for row in page["data"]]
        return page


def update_segment(engine: Engine, segment_id: str, data: SegmentUpdate) -> dict[str, Any]:
    """Rename, describe, or change a rule (which re-evaluates every customer)."""
    moment = engine.now()
    with engine.unit_of_work() as uow:
        s = uow.session
        row = _segment(s, segment_id)
        if data.name is not None:
            row.name = data.name
        if data.description is not None:
            row.description = data.description
        if data.rule is not None and data.rule != row.rule:
            if row.static:
                raise Invalid("a static segment has no rule", field="rule")
            _check_rule(engine, data.rule)
            row.rule = data.rule
            rebuild(uow, row.id, row.rule, moment)
        row.updated_at = moment
        s.add(row)
        return _out(row, _count(s, row.id))


def delete_segment(engine: Engine, segment_id: str) -> None:
    """Delete a segment and its membership, unless a journey enters by it or updates it (409 naming the
    journeys); the change log is kept as history."""
    with engine.session() as s:
        row = _segment(s, segment_id)
        check_unused(s, "segment", segment_id)
        s.execute(delete(SegmentMember).where(SegmentMember.segment_id == segment_id))
        s.delete(row)


def change_members(engine: Engine, segment_id: str, add: list[str], remove: list[str]) -> dict[str, Any]:
    """Add/remove customers to/from a static segment; unknown customers are 422 naming the list."""
    moment = engine.now()
    with engine.unit_of_work() as uow:
        s = uow.session
        _segment(s, segment_id)
        known = {row.id for row in _load_customers(s, list(dict.fromkeys(add)))}
        unknown = [c for c in add if c not in known]
        if unknown:
            raise Invalid(f"unknown customer {unknown[0]}", details={"field": "add", "unknown": unknown[:50]})
        changes = (static_changes(s, segment_id, add, True, "add")
                   + static_changes(s, segment_id, remove, False, "remove"))
        apply_changes(uow, changes, moment)
        return {"added": sum(1 for c in changes if c[2]), "removed": sum(1 for c in changes if not c[2]),
                "count": _count(s, segment_id)}


def list_members(engine: Engine, segment_id: str, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    with engine.reader() as s:
        _segment(s, segment_id)
        statement = (select(SegmentMember).where(SegmentMember.segment_id == segment_id)
                     .order_by(SegmentMember.customer_id))
        return paginate(s, statement, limit, offset,
                        lambda m: {"customerId": m.customer_id, "joinedAt": iso(m.joined_at)})


def member_count(engine: Engine, segment_id: str) -> int:
    with engine.reader() as s:
        _segment(s, segment_id)
        return _count(s, segment_id)


def list_changes(engine: Engine, segment_id: str, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """The joined/left log of a segment, newest first."""
    with engine.reader() as s:
        _segment(s, segment_id)
        statement = (select(SegmentChange).where(SegmentChange.segment_id == segment_id)
                     .order_by(SegmentChange.at.desc(), SegmentChange.id.desc()))
        return paginate(s, statement, limit, offset, lambda c: {
            "customerId": c.customer_id, "joined": c.joined, "at": iso(c.at)})


def customer_segments(engine: Engine, customer_id: str) -> list[dict[str, Any]]:
    """The segments one customer belongs to, with when they joined."""
    with engine.reader() as s:
        fetch(s, Customer, customer_id, "customer")
        rows = s.execute(
            select(Segment, SegmentMember.joined_at)
            .join(SegmentMember, SegmentMember.segment_id == Segment.id)
            .where(SegmentMember.customer_id == customer_id).order_by(Segment.name)
        ).all()
        return [{"id": seg.id, "name": seg.name, "static": seg.static, "joinedAt": iso(joined)}
                for seg, joined in rows]


def _check_rule(engine: Engine, rule: str | None) -> None:
    if rule is None:
        return
    reason = check(rule, Limits.of(engine.settings))
    if reason:
        raise Invalid(f"rule: {reason}", field="rule")


def _segment(session: Session, segment_id: str) -> Segment:
    return fetch(session, Segment, segment_id, "segment")


def _count(session: Session, segment_id: str) -> int:
    return _counts(session, [segment_id]).get(segment_id, 0)


def _counts(session: Session, segment_ids: list[str]) -> dict[str, int]:
    if not segment_ids:
        return {}
    rows = session.execute(
        select(SegmentMember.segment_id, func.count()).where(SegmentMember.segment_id.in_(segment_ids))
        .group_by(SegmentMember.segment_id)
    ).all()
    return {segment_id: count for segment_id, count in rows}


def _out(row: Segment, count: int) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "description": row.description, "rule": row.rule,
            "static": row.static, "memberCount": count, "createdAt": iso(row.created_at),
            "updatedAt": iso(row.updated_at)}


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), BATCH):
        yield items[start:start + BATCH]
