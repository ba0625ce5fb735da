"""What every channel sender receives and how it reports failure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from engine.engine import Engine


@dataclass(frozen=True)
class OutgoingMessage:
    """One rendered delivery, ready to hand to a channel."""

    delivery_id: str
    idempotency_key: str
    channel_id: str
    customer_id: str
    customer: dict[str, Any]
    offer_id: str | None
    journey_id: str | None
    enrollment_id: str | None
    step_id: str | None
    subject: str
    body: str

    def envelope(self) -> dict[str, Any]:
        """The fields every HTTP channel puts in its JSON body."""
        return {
            "deliveryId": self.delivery_id,
            "idempotencyKey": self.idempotency_key,
            "channelId": self.channel_id,
            "customerId": self.customer_id,
            "offerId": self.offer_id,
            "journeyId": self.journey_id,
            "enrollmentId": self.enrollment_id,
            "stepId": self.step_id,
        }


class SendError(Exception):
    """A delivery that did not go through. `permanent` ones are not retried (a retry cannot help)."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass
class Sending:
    """What a sender works with besides the message: the engine, and the dispatcher round's staged inbox
    rows (in_app messages are written with the round's results; None: write at once)."""

    engine: Engine
    inbox: list[dict[str, Any]] | None = None


class Sender(Protocol):
    def __call__(self, sending: Sending, config: dict[str, Any], message: OutgoingMessage) -> None:
        """Deliver `message` with the channel's stored `config`; raise SendError when it fails."""
