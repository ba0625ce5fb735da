"""Test helpers for channels and deliveries: seed rows, a real local HTTP receiver and a real SMTP server.

The outbound guard refuses loopback destinations, so the local servers put their own address on the
outbound allowlist while they run (`allow=False` keeps it off, to watch the guard refuse them).
"""

from __future__ import annotations

import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from engine import counters
from engine.counters import Tally
from engine.delivery.outbox import QueuedDelivery, queue_delivery
from engine.engine import Engine
from models.audience import Customer
from models.channels import Channel, Delivery, DeliveryAttempt
from models.offers import Offer


def seed_customer(engine: Engine, customer_id: str = "cus_ann", **attributes: Any) -> str:
    with engine.session() as s:
        s.add(Customer(id=customer_id, attributes={"name": "Ann", "email": "ann@example.com", **attributes},
                       flags={}, created_at=engine.now(), updated_at=engine.now()))
    return customer_id


def seed_offer(engine: Engine, offer_id: str = "off_tea", creatives: dict[str, Any] | None = None,
               **fields: Any) -> str:
    with engine.session() as s:
        s.add(Offer(id=offer_id, name=fields.pop("name", "Green tea"),
                    description=fields.pop("description", "Ten percent off green tea"),
                    creatives=creatives or {}, created_at=engine.now(), updated_at=engine.now(), **fields))
    return offer_id


def seed_channel(engine: Engine, channel_id: str, type: str, config: dict[str, Any],
                 rate_limit: float | None = None) -> str:
    with engine.session() as s:
        s.add(Channel(id=channel_id, name=channel_id, type=type, config=config, rate_limit=rate_limit,
                      created_at=engine.now(), updated_at=engine.now()))
    return channel_id


LOCAL_ADDRESS = "127.0.0.1"


@contextmanager
def outbound_allowed(engine: Engine, entry: str) -> Iterator[None]:
    """`entry` added to the outbound allowlist for the duration."""
    settings = engine.settings
    before = settings.outbound_allowlist
    settings.outbound_allowlist = ",".join(filter(None, [before, entry]))
    try:
        yield
    finally:
        settings.outbound_allowlist = before


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Receiver:
    """A local HTTP server that records every POST and answers the scripted statuses (then 200)."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def http_receiver(engine: Engine, statuses: list[int] | None = None, allow: bool = True, answer: bytes = b"",
                  headers: dict[str, str] | None = None) -> Iterator[Receiver]:
    """A receiver on 127.0.0.1 (allowed outbound unless `allow=False`); answers that are not 200 carry
    `headers` and `answer` (or "busy") as their body."""
    receiver = Receiver(statuses=list(statuses or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.requests.append({"path": self.path, "headers": dict(self.headers),
                                      "json": json.loads(raw)})
            status = receiver.statuses.pop(0) if receiver.statuses else 200
            self.send_response(status)
            for name, value in (headers or {}).items() if status != 200 else ():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write((answer or b"busy") if status >= 400 else b"ok")

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer((LOCAL_ADDRESS, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    receiver.url = f"http://{LOCAL_ADDRESS}:{server.server_address[1]}/hook"
    try:
        with outbound_allowed(engine, LOCAL_ADDRESS if allow else ""):
            yield receiver
    finally:
        server.shutdown()
        server.server_close()


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                              "data": envelope.content.decode()})
        return "250 Message accepted"


@contextmanager
def smtp_server(engine: Engine, tls: ssl.SSLContext | None = None, login: tuple[str, str] | None = None,
                allow: bool = True) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """A real SMTP server (aiosmtpd) on a free port of 127.0.0.1 (allowed outbound unless `allow=False`),
    offering STARTTLS with `tls` and requiring AUTH with `login`; yields (port, received messages)."""
    mailbox = _Mailbox()

    def authenticate(_server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any) -> AuthResult:
        ok = login is not None and (data.login.decode(), data.password.decode()) == login
        return AuthResult(success=ok, handled=False)

    options: dict[str, Any] = {"tls_context": tls, "require_starttls": tls is not None}
    if login is not None:
        options.update(authenticator=authenticate, auth_required=True)
    controller = Controller(mailbox, hostname=LOCAL_ADDRESS, port=free_port(), **options)
    controller.start()
    try:
        with outbound_allowed(engine, LOCAL_ADDRESS if allow else ""):
            yield controller.port, mailbox.messages
    finally:
        controller.stop()


def self_signed_tls(directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for a fresh certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    moment = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(moment - timedelta(days=1))
        .not_valid_after(moment + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


def queue(engine: Engine, key: str = "k1", *, channel_id: str = "ch_hook", offer_id: str | None = "off_tea",
          customer_id: str = "cus_ann", template: dict[str, Any] | None = None,
          context: dict[str, Any] | None = None, policy: dict[str, Any] | None = None,
          journey_id: str | None = "jrn_1", enrollment_id: str | None = "enr_1") -> QueuedDelivery:
    """Queue a delivery the way a journey's send step does."""
    with engine.unit_of_work() as uow:
        s = uow.session
        tally = Tally()
        queued = queue_delivery(uow, tally, customer_id=customer_id, channel_id=channel_id,
                                offer_id=offer_id, journey_id=journey_id, enrollment_id=enrollment_id,
                                step_id="send1", idempotency_key=key, template=template,
                                context=context or {}, contact_policy=policy, now=engine.now())
        counters.apply(s, tally)
        return queued


def delivery(engine: Engine, delivery_id: str) -> Delivery:
    with engine.session() as s:
        return s.get_one(Delivery, delivery_id)


def attempts(engine: Engine, delivery_id: str) -> list[DeliveryAttempt]:
    with engine.session() as s:
        return list(s.execute(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id)
                              .order_by(DeliveryAttempt.id)).scalars())


def mail_config(port: int) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": port, "starttls": False, "username": None, "password": None,
            "fromAddress": "shop@example.com"}


def http_config(url: str, **headers: str) -> dict[str, Any]:
    return {"url": url, "headers": headers, "timeoutSeconds": 5}
