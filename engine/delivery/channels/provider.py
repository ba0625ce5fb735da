"""sms and push: an HTTP provider endpoint that receives one JSON message per delivery.

The recipient comes from the customer's attributes (`phone` for sms, `pushToken` for push); the
customer id travels too, so a provider that keeps its own address book can resolve it.
"""

from __future__ import annotations

from typing import Any

from engine.delivery.channels.base import OutgoingMessage, Sending
from engine.delivery.channels.http import post_json


def send_sms(sending: Sending, config: dict[str, Any], message: OutgoingMessage) -> None:
    engine = sending.engine
    body = {**message.envelope(), "type": "sms", "to": message.customer.get("phone"), "text": message.body}
    post_json(engine, config, message, body)


def send_push(sending: Sending, config: dict[str, Any], message: OutgoingMessage) -> None:
    engine = sending.engine
    body = {**message.envelope(), "type": "push", "to": message.customer.get("pushToken"),
            "title": message.subject, "body": message.body}
    post_json(engine, config, message, body)
