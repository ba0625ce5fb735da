"""Hand-off points between engine parts that are built independently.

A sender does not know who listens: the audience layer announces accepted events and segment joins,
the lifecycle announces status changes, and the runtime reacts (enrolls, wakes, exits). Which receiver
listens, and when it runs, is written down in one place: `engine.wiring`.

A receiver runs either inside the sender's transaction (`IN_TRANSACTION`: the hand-off commits or rolls
back with the sender's writes) or once that transaction has committed (`AFTER_COMMIT`: in a transaction of
its own, so it never changes rows the sender is still working on). An after-commit receiver is called
without `session` and with `origin`: what the sender's session said caused the change (the runner sets the
enrollment whose step is running), or None.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Literal

from engine.db import after_commit, retrying

When = Literal["in_transaction", "after_commit"]
IN_TRANSACTION: When = "in_transaction"
AFTER_COMMIT: When = "after_commit"
# session.info key the runner sets while a step runs: {"journey_id", "enrollment_id", "customer_id"}.
ORIGIN = "origin"


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

    def send(self, **kwargs: Any) -> None:
        session = kwargs.get("session")
        for receiver, when in list(self._receivers):
            if when == IN_TRANSACTION or session is None:
                receiver(**kwargs)
                continue
            later = {key: value for key, value in kwargs.items() if key != "session"}
            later[ORIGIN] = session.info.get(ORIGIN)
            after_commit(session, partial(retrying, partial(receiver, **later)))


# session, events: list[models.audience.Event], now
events_accepted = Signal("events_accepted")
# session, changes: list[tuple[customer_id, segment_id, joined: bool]], now
segment_membership_changed = Signal("segment_membership_changed")
# session, journey: models.journey.Journey, old: str, new: str, now, options: dict
journey_status_changed = Signal("journey_status_changed")
# session, customer_id, now: the customer is being deleted (in this transaction)
customer_deleted = Signal("customer_deleted")
# no arguments: something became due now (enrollment, event, queued delivery); wake the jobs
work_available = Signal("work_available")
# behind: bool: the runner is working through a backlog of due enrollments (True) or has caught up (False)
engine_behind = Signal("engine_behind")
