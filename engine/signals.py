"""Hand-off points between engine parts that are built independently.

A sender does not know who listens: the audience layer announces accepted events and segment joins,
the lifecycle announces status changes, and the runtime reacts (enrolls, wakes, exits). Which receiver
listens, and when it runs, is written down in one place: `engine.wiring`.

A sender hands over its unit of work (engine.unit_of_work). A receiver runs either inside the sender's
transaction (`IN_TRANSACTION`: called with `uow` and its `session`; the hand-off commits or rolls back with
the sender's writes) or once that transaction has committed (`AFTER_COMMIT`: in a transaction of its own,
so it never changes rows the sender is still working on). An after-commit receiver is called without
`session` and with `origin`: what the sender's unit of work said caused the change (the runner names the
enrollment whose step is running), or None.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from engine.db import retrying

if TYPE_CHECKING:
    from engine.unit_of_work import UnitOfWork

When = Literal["in_transaction", "after_commit"]
IN_TRANSACTION: When = "in_transaction"
AFTER_COMMIT: When = "after_commit"


class Signal:
    def __init__(self, name: str) -> None:
        self.name = name
        self._receivers: list[tuple[Callable[..., Any], When]] = []

    def connect(self, receiver: Callable[..., Any], when: When = IN_TRANSACTION) -> Callable[..., Any]:
        self.disconnect(receiver)
        self._receivers.append((receiver, when))
        return receiver

    def disconnect(self, receiver: Callable[..., Any]) -> None:
        # Equality, not identity: a bound method is a new object each time it is read.
        self._receivers = [(r, when) for r, when in self._receivers if r != receiver]

    def receivers(self) -> list[tuple[Callable[..., Any], When]]:
        return list(self._receivers)

    def send(self, uow: UnitOfWork | None = None, **kwargs: Any) -> None:
        """Call every receiver with `kwargs`; without a unit of work (nothing is open) all of them now."""
        for receiver, when in list(self._receivers):
            if uow is None:
                receiver(**kwargs)
            elif when == IN_TRANSACTION:
                receiver(uow=uow, session=uow.session, **kwargs)
            else:
                uow.after_commit(partial(retrying, partial(receiver, origin=uow.origin, **kwargs)))


# uow, events: list[models.audience.Event], now
events_accepted = Signal("events_accepted")
# uow, changes: list[tuple[customer_id, segment_id, joined: bool]], now
segment_membership_changed = Signal("segment_membership_changed")
# uow, journey: models.journey.Journey, old: str, new: str, now, options: dict
journey_status_changed = Signal("journey_status_changed")
# uow, customer_id, now: the customer is being deleted (in this transaction)
customer_deleted = Signal("customer_deleted")
# no arguments: something became due now (enrollment, event, queued delivery); wake the jobs
work_available = Signal("work_available")
# behind: bool: the runner is working through a backlog of due enrollments (True) or has caught up (False)
engine_behind = Signal("engine_behind")
