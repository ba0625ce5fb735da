"""webhook: POST the rendered message as JSON to the configured URL."""

from __future__ import annotations

from typing import Any

from engine.delivery.channels.base import OutgoingMessage
from engine.delivery.channels.http import post_json


def send(config: dict[str, Any], message: OutgoingMessage) -> None:
    post_json(config, message, {**message.envelope(), "subject": message.subject, "body": message.body})
