"""webhook: POST the rendered message as JSON to the configured URL."""

from __future__ import annotations

from typing import Any

from engine.delivery.channels.base import OutgoingMessage, Sending
from engine.delivery.channels.http import post_json


def send(sending: Sending, config: dict[str, Any], message: OutgoingMessage) -> None:
    body = {**message.envelope(), "subject": message.subject, "body": message.body}
    post_json(sending.engine, config, message, body)
