"""The delivery and response counters the journey monitor reads by key (DeliveryCounter, ResponseCounter).

Each change is counted in the transaction of the row change it stands for, so the counters always equal
a recount: a delivery queued or suppressed (outbox), moved from queued to sent or failed (dispatcher),
and a delivery's first response of each outcome (responses). No journey or step counts as "".

The deltas gather on the session and are written just before its outermost commit, in one upsert per
table in key order: a runner batch then holds the (hot) counter rows' locks only while it commits, and
concurrent workers on PostgreSQL take them in one order, so they cannot deadlock on them. Deltas made in
a savepoint that is rolled back are dropped, like the rows they stood for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, SQLModel

from engine.upsert import add_counts
from models.channels import DeliveryCounter, ResponseCounter

_PENDING = "journeys.delivery_counts"
_KEYS = {DeliveryCounter: ("journey_id", "step_id", "channel_id", "status"),
         ResponseCounter: ("journey_id", "step_id", "outcome")}
Deltas = dict[type[SQLModel], Counter[tuple[str, ...]]]


def delivery_changed(session: Session, journey_id: str | None, step_id: str | None, channel_id: str,
                     status: str, previous: str | None = None) -> None:
    """Count one delivery into `status`, and out of `previous` when it had one."""
    deltas = _deltas(session)[DeliveryCounter]
    deltas[(journey_id or "", step_id or "", channel_id, status)] += 1
    if previous is not None:
        deltas[(journey_id or "", step_id or "", channel_id, previous)] -= 1


def first_response(session: Session, journey_id: str | None, step_id: str | None, outcome: str) -> None:
    """Count a delivery that drew `outcome` for the first time."""
    _deltas(session)[ResponseCounter][(journey_id or "", step_id or "", outcome)] += 1


@dataclass
class _Pending:
    """A session's deltas by the (sub)transaction they were made in: the runner runs each step in a
    savepoint, and a savepoint rolled back takes its deltas with it."""

    layers: dict[SessionTransaction, Deltas] = field(default_factory=dict)
    rolled_back: set[SessionTransaction] = field(default_factory=set)

    def surviving(self) -> Deltas:
        totals: Deltas = {model: Counter() for model in _KEYS}
        for transaction, layer in self.layers.items():
            if not any(ancestor in self.rolled_back for ancestor in _lineage(transaction)):
                for model, deltas in layer.items():
                    totals[model].update(deltas)
        return totals

    def clear(self) -> None:
        self.layers.clear()
        self.rolled_back.clear()


def _deltas(session: Session) -> Deltas:
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = _Pending()
        event.listen(session, "before_commit", _write)
        event.listen(session, "after_soft_rollback", _rolled_back)
    transaction = session.get_nested_transaction() or session.get_transaction() or session.begin()
    return pending.layers.setdefault(transaction, {model: Counter() for model in _KEYS})


def _write(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint being released: its deltas wait for the outermost commit
    pending: _Pending = session.info[_PENDING]
    totals = pending.surviving()
    pending.clear()
    for model, deltas in totals.items():
        add_counts(session, model, _KEYS[model], ("count",),
                   [(*key, delta) for key, delta in sorted(deltas.items()) if delta])


def _rolled_back(session: Session, previous: SessionTransaction) -> None:
    pending: _Pending = session.info[_PENDING]
    if previous.nested:
        pending.rolled_back.add(previous)
    else:
        pending.clear()


def _lineage(transaction: SessionTransaction | None) -> Iterator[SessionTransaction]:
    while transaction is not None:
        yield transaction
        transaction = transaction.parent
