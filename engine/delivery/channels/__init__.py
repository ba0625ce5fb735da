"""Channel senders, one module per type, and the registry the dispatcher looks them up in."""

from __future__ import annotations

from engine.delivery.channels import email, in_app, provider, webhook
from engine.delivery.channels.base import OutgoingMessage, Sender, SendError, Sending

SENDERS: dict[str, Sender] = {
    "email": email.send,
    "webhook": webhook.send,
    "sms": provider.send_sms,
    "push": provider.send_push,
    "in_app": in_app.send,
}

__all__ = ["SENDERS", "OutgoingMessage", "SendError", "Sender", "Sending"]
