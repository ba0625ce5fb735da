"""email: one SMTP session per message (STARTTLS and login when configured); the recipient is the
customer's `email` attribute."""

from __future__ import annotations

import hashlib
import re
import smtplib
import socket
import ssl
from email.message import EmailMessage
from typing import Any

from engine.delivery import outbound
from engine.delivery.channels.base import OutgoingMessage, SendError, Sending
from engine.engine import Engine

TIMEOUT_SECONDS = 30
# The first line of an SMTP reply, cut to this, is the most of a remote answer lastError ever shows.
REPLY_CHARS = 200
# RFC 5322 dot-atom-text: what the right side of a Message-ID may be without quoting.
DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
# For a From domain that is no dot-atom (an address literal, say): a name reserved never to resolve.
FALLBACK_DOMAIN = "journeys.invalid"


class GuardedSMTP(smtplib.SMTP):
    """SMTP over a connection to an address the outbound guard checked; STARTTLS still verifies the
    configured host name."""

    def __init__(self, engine: Engine, host: str, port: int, timeout: float) -> None:
        self.engine = engine  # before connecting, which the base class does in its constructor
        super().__init__(host, port, timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return outbound.connect(self.engine, host, port, timeout)


def send(sending: Sending, config: dict[str, Any], message: OutgoingMessage) -> None:
    engine = sending.engine
    recipient = message.customer.get("email")
    if not isinstance(recipient, str) or "@" not in recipient:
        raise SendError(f"customer {message.customer_id} has no email address", permanent=True)
    mail = _compose(config["fromAddress"], recipient, message)
    try:
        with GuardedSMTP(engine, config["host"], int(config.get("port", 25)), TIMEOUT_SECONDS) as smtp:
            if config.get("starttls"):
                smtp.starttls(context=ssl.create_default_context())
            if config.get("username"):
                smtp.login(config["username"], config.get("password") or "")
            smtp.send_message(mail)
    except outbound.BlockedDestination as error:
        raise SendError(str(error), permanent=True) from error
    except smtplib.SMTPResponseException as error:
        # 5xx answers (bad mailbox, auth refused) will not change on a retry; 4xx ones may.
        text = error.smtp_error
        text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
        reply = text.splitlines()[0][:REPLY_CHARS] if text else ""
        raise SendError(f"SMTP {error.smtp_code}: {reply}", permanent=error.smtp_code >= 500) from error
    except (smtplib.SMTPException, OSError) as error:
        raise SendError(f"{type(error).__name__}: {error}") from error


def _compose(sender: str, recipient: str, message: OutgoingMessage) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = recipient
    mail["Subject"] = message.subject
    mail["Message-ID"] = message_id(message.idempotency_key, sender)
    mail["X-Journeys-Delivery"] = message.delivery_id
    mail.set_content(message.body)
    return mail


def message_id(idempotency_key: str, sender: str) -> str:
    """The same msg-id for every send of one delivery, so mail clients fold a re-send after a crash into
    one message: a digest of the key (a key may hold characters no msg-id may) at the sender's domain
    (spam filters mark a Message-ID without a fully qualified domain)."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    domain = sender.rpartition("@")[2].lower()
    return f"<{digest}@{domain if DOT_ATOM.fullmatch(domain) else FALLBACK_DOMAIN}>"
