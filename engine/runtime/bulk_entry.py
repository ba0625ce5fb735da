"""Enrolling many customers by hand (the Enroll dialog, the customer page's "Add to journey"): a list of ids
of any length, or every member of a segment.

Each batch of `BATCH` customers goes through the manual entry (engine.runtime.entry.enroll) in its own
transaction, so a large segment never holds the journey's entry lock for long, and the re-entry policy,
cooldown, counters and announcements are exactly those of the API's enroll. The answer sums the batches:
how many enrolled, how many were skipped by reason, and the first skipped customers by id.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from engine.access import roles
from engine.audience import segments
from engine.engine import Engine
from engine.errors import Conflict, Invalid
from engine.journeys import lifecycle
from engine.runtime import entry

BATCH = 1000
# Skipped customers listed by id in the answer; beyond that they are only counted by reason.
SAMPLE = 50
# Why a journey in this status takes no one, and what to do about it.
REFUSALS = {
    "draft": "This journey is a draft: activate it first.",
    "paused": "This journey is paused: resume it first.",
    "archived": "This journey is archived: it takes no one any more.",
}


def enroll_refusal(status: str) -> str | None:
    """Why a journey in `status` cannot enroll anyone now (None when it can: active)."""
    return None if status == "active" else REFUSALS.get(status, f"This journey is {status}.")


def enroll_customers(engine: Engine, journey_id: str, customer_ids: list[str]) -> dict[str, Any]:
    """Enroll the given customers (any number; a repeated id is skipped as `duplicate`)."""
    if not customer_ids:
        raise Invalid("give at least one customer id", field="customerIds")
    result = _start(engine, journey_id)
    unique = list(dict.fromkeys(customer_ids))
    repeated = [cid for cid, count in Counter(customer_ids).items() for _ in range(count - 1)]
    result.skip(["duplicate"] * len(repeated), repeated)
    for start in range(0, len(unique), BATCH):
        if not result.run(unique[start:start + BATCH]):
            result.skip_all(unique[start + BATCH:], "journey_not_active")
            break
    return result.answer()


def enroll_segment(engine: Engine, journey_id: str, segment_id: str) -> dict[str, Any]:
    """Enroll every member of the segment (members in id order, batch by batch)."""
    segment = segments.get_segment(engine, segment_id)  # NotFound for an unknown segment
    result = _start(engine, journey_id)
    result.segment = {"id": segment["id"], "name": segment["name"]}
    after: str | None = None
    while True:
        with engine.db.reader() as s:
            ids = segments.member_ids(s, segment_id, after, BATCH)
        if not ids or not result.run(ids) or len(ids) < BATCH:
            break
        after = ids[-1]
    return result.answer()


@dataclass
class _Result:
    engine: Engine
    journey: dict[str, Any]
    enrolled: int = 0
    considered: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    sample: list[dict[str, str]] = field(default_factory=list)
    stopped: str | None = None
    segment: dict[str, Any] | None = None

    def run(self, ids: list[str]) -> bool:
        """Enroll one batch; False when the journey stopped taking customers meanwhile (paused, archived)."""
        try:
            answer = entry.enroll(self.engine, self.journey["id"], ids)
        except Conflict as error:
            self.stopped = error.message
            self.skip_all(ids, "journey_not_active")
            return False
        self.considered += len(ids)
        self.enrolled += answer["enrolled"]
        skipped = answer["skippedCustomers"]
        self.skip([item["reason"] for item in skipped], [item["customerId"] for item in skipped])
        return True

    def skip(self, reasons: list[str], ids: list[str]) -> None:
        self.reasons.update(reasons)
        room = SAMPLE - len(self.sample)
        listed = zip(ids[:room], reasons[:room], strict=True)
        self.sample += [{"customerId": cid, "reason": why} for cid, why in listed]

    def skip_all(self, ids: list[str], reason: str) -> None:
        self.considered += len(ids)
        self.skip([reason] * len(ids), ids)

    def answer(self) -> dict[str, Any]:
        return {
            "journeyId": self.journey["id"],
            "journeyName": self.journey["name"],
            "segment": self.segment,
            "considered": self.considered,
            "enrolled": self.enrolled,
            "skipped": sum(self.reasons.values()),
            "skippedByReason": dict(self.reasons.most_common()),
            "skippedCustomers": self.sample,
            "stopped": self.stopped,
        }


def _start(engine: Engine, journey_id: str) -> _Result:
    """The result to fill, once the actor may enroll and the journey takes customers (Conflict saying what to
    do when it does not)."""
    roles.require(engine.actor, "editor", "enroll customers")
    journey = lifecycle.get_journey(engine, journey_id)  # NotFound for an unknown journey
    refusal = enroll_refusal(journey.status)
    if refusal:
        raise Conflict(refusal, {"status": journey.status})
    return _Result(engine, journey={"id": journey.id, "name": journey.name})

