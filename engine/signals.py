"""Hand-off points between engine parts that are built independently.

A sender does not know who listens: the audience layer announces accepted events and segment joins,
the lifecycle announces status changes, and the runtime reacts (enrolls, wakes, exits). Receivers run
synchronously, inside the sender's transaction, so a hand-off is never lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Signal:
    def __init__(self, name: str) -> None:
        self.name = name
        self._receivers: list[Callable[..., Any]] = []

    def connect(self, receiver: Callable[..., Any]) -> Callable[..., Any]:
        if receiver not in self._receivers:
            self._receivers.append(receiver)
        return receiver

    def disconnect(self, receiver: Callable[..., Any]) -> None:
        if receiver in self._receivers:
            self._receivers.remove(receiver)

    def send(self, **kwargs: Any) -> None:
        for receiver in list(self._receivers):
            receiver(**kwargs)


# session, events: list[models.audience.Event], now
events_accepted = Signal("events_accepted")
# session, changes: list[tuple[customer_id, segment_id, joined: bool]], now
segment_membership_changed = Signal("segment_membership_changed")
# session, journey: models.journey.Journey, old: str, new: str, now, options: dict
journey_status_changed = Signal("journey_status_changed")
# no arguments: something became due now (enrollment, event, queued delivery); wake the jobs
work_available = Signal("work_available")
