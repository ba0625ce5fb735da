"""Each channel type delivers for real: SMTP to a local aiosmtpd server, HTTP to a local server, and
in_app into the stored inbox."""

from __future__ import annotations

import re
import ssl
from email import message_from_string
from email.policy import default

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from engine.clock import VirtualClock
from engine.delivery.channels import SENDERS, OutgoingMessage, Sending
from engine.delivery.dispatcher import dispatch_due
from engine.engine import Engine
from models.channels import InboxMessage
from tests.delivery_kit import (
    LOCAL_ADDRESS,
    delivery,
    free_port,
    http_config,
    http_receiver,
    mail_config,
    outbound_allowed,
    queue,
    seed_channel,
    seed_customer,
    seed_offer,
    smtp_server,
)

pytestmark = pytest.mark.usefixtures("engine")

CREATIVES = {
    "email": {"subject": "{{ customer.name }}, a treat",
              "body": "Hello {{ customer.name }}: {{ offer.name }}"},
    "sms": {"body": "{{ offer.name }} for {{ customer.name }}"},
    "push": {"subject": "For {{ customer.name }}", "body": "{{ offer.description }}"},
    "webhook": {"subject": "Hook {{ customer.id }}", "body": "{{ offer.id }}"},
    "in_app": {"subject": "Inbox {{ customer.name }}", "body": "{{ offer.name }} inside"},
}


@pytest.fixture(autouse=True)
def _audience(engine: Engine) -> None:
    seed_customer(engine, "cus_ann", phone="+4915100000", pushToken="tok-ann")
    seed_offer(engine, "off_tea", creatives=CREATIVES)


def test_email_arrives_over_smtp_with_rendered_subject_and_body(engine: Engine) -> None:
    with smtp_server(engine) as (port, messages):
        seed_channel(engine, "ch_mail", "email", mail_config(port))
        queued = queue(engine, channel_id="ch_mail")
        assert dispatch_due(engine) == 1
    assert delivery(engine, queued.id).status == "sent"
    assert len(messages) == 1
    assert messages[0]["from"] == "shop@example.com"
    assert messages[0]["to"] == ["ann@example.com"]
    mail = message_from_string(messages[0]["data"], policy=default)
    assert mail["Subject"] == "Ann, a treat"
    assert mail.get_content().strip() == "Hello Ann: Green tea"
    assert mail["X-Journeys-Delivery"] == queued.id


class _AcceptedThenFailedMailbox:
    """Keeps every message, but answers the first one with a 451: the sender cannot tell it arrived (as
    after a crash between sending and recording), so it sends it again."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    async def handle_DATA(self, _server: object, _session: object, envelope: object) -> str:
        self.messages.append(envelope.content.decode())  # type: ignore[attr-defined]
        return "451 try again" if len(self.messages) == 1 else "250 Message accepted"


# RFC 5322 msg-id: "<" dot-atom-text "@" dot-atom-text ">".
ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
MSG_ID = re.compile(rf"<{ATOM}(\.{ATOM})*@{ATOM}(\.{ATOM})*>")


def test_a_retried_email_repeats_one_message_id_from_the_idempotency_key(
        engine: Engine, clock: VirtualClock) -> None:
    mailbox = _AcceptedThenFailedMailbox()
    controller = Controller(mailbox, hostname=LOCAL_ADDRESS, port=free_port())
    controller.start()
    try:
        with outbound_allowed(engine, LOCAL_ADDRESS):
            seed_channel(engine, "ch_mail", "email", mail_config(controller.port))
            first = queue(engine, "enr_1:send1:1", channel_id="ch_mail")
            dispatch_due(engine)
            clock.advance(hours=1)
            dispatch_due(engine)
            other = queue(engine, "enr_2:send1:1", channel_id="ch_mail", enrollment_id="enr_2")
            dispatch_due(engine)
    finally:
        controller.stop()
    assert (delivery(engine, first.id).status, delivery(engine, other.id).status) == ("sent", "sent")
    ids = [message_from_string(text, policy=default)["Message-ID"] for text in mailbox.messages]
    assert ids[0] == ids[1] != ids[2]
    assert all(MSG_ID.fullmatch(message_id) for message_id in ids), ids
    # The sender's domain names where the message comes from.
    assert ids[0].endswith("@example.com>")


def test_email_to_a_customer_without_address_fails_at_once(engine: Engine) -> None:
    seed_customer(engine, "cus_bob", email=None)
    with smtp_server(engine) as (port, messages):
        seed_channel(engine, "ch_mail", "email", mail_config(port))
        queued = queue(engine, channel_id="ch_mail", customer_id="cus_bob")
        dispatch_due(engine)
    row = delivery(engine, queued.id)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "no email address" in row.last_error
    assert messages == []


def test_email_to_an_unreachable_server_is_retried(engine: Engine) -> None:
    with smtp_server(engine) as (port, _messages):
        pass  # the port is free again: nothing listens
    seed_channel(engine, "ch_mail", "email", mail_config(port))
    queued = queue(engine, channel_id="ch_mail")
    with outbound_allowed(engine, LOCAL_ADDRESS):
        dispatch_due(engine)
    row = delivery(engine, queued.id)
    assert (row.status, row.attempts) == ("queued", 1)
    assert "Connection" in row.last_error or "refused" in row.last_error


def test_webhook_posts_json_with_idempotency_key_and_configured_headers(engine: Engine) -> None:
    with http_receiver(engine) as receiver:
        seed_channel(engine, "ch_hook", "webhook", http_config(receiver.url, Authorization="Bearer s3cret"))
        queued = queue(engine, "enr_1:send1:1", channel_id="ch_hook")
        dispatch_due(engine)
    (request,) = receiver.requests
    assert request["headers"]["Idempotency-Key"] == "enr_1:send1:1"
    assert request["headers"]["Authorization"] == "Bearer s3cret"
    assert request["json"] == {
        "deliveryId": queued.id, "idempotencyKey": "enr_1:send1:1", "channelId": "ch_hook",
        "customerId": "cus_ann", "offerId": "off_tea", "journeyId": "jrn_1", "enrollmentId": "enr_1",
        "stepId": "send1", "subject": "Hook cus_ann", "body": "off_tea",
    }
    assert delivery(engine, queued.id).status == "sent"


def test_sms_provider_receives_the_text_and_the_customers_phone(engine: Engine) -> None:
    with http_receiver(engine) as receiver:
        seed_channel(engine, "ch_sms", "sms", http_config(receiver.url))
        queue(engine, "k-sms", channel_id="ch_sms")
        dispatch_due(engine)
    body = receiver.requests[0]["json"]
    assert (body["type"], body["to"], body["text"]) == ("sms", "+4915100000", "Green tea for Ann")
    assert receiver.requests[0]["headers"]["Idempotency-Key"] == "k-sms"


def test_push_provider_receives_title_body_and_token(engine: Engine) -> None:
    with http_receiver(engine) as receiver:
        seed_channel(engine, "ch_push", "push", http_config(receiver.url, **{"X-Api-Key": "k"}))
        queue(engine, "k-push", channel_id="ch_push")
        dispatch_due(engine)
    body = receiver.requests[0]["json"]
    assert (body["type"], body["to"], body["title"], body["body"]) == (
        "push", "tok-ann", "For Ann", "Ten percent off green tea")
    assert receiver.requests[0]["headers"]["X-Api-Key"] == "k"


def test_in_app_message_lands_in_the_inbox_once(engine: Engine) -> None:
    seed_channel(engine, "ch_inapp", "in_app", {})
    queued = queue(engine, channel_id="ch_inapp")
    dispatch_due(engine)
    row = delivery(engine, queued.id)
    assert row.status == "sent"
    again = OutgoingMessage(delivery_id=row.id, idempotency_key=row.idempotency_key, channel_id="ch_inapp",
                            customer_id="cus_ann", customer={}, offer_id="off_tea", journey_id=None,
                            enrollment_id=None, step_id=None, subject="again", body="again")
    SENDERS["in_app"](Sending(engine), {}, again)  # what a re-send after a crash would do: nothing new
    with engine.session() as s:
        inbox = s.execute(select(InboxMessage).where(InboxMessage.customer_id == "cus_ann")).scalars().all()
    assert [(m.delivery_id, m.subject, m.body) for m in inbox] == [
        (queued.id, "Inbox Ann", "Green tea inside")]


def test_email_with_starttls_and_login_arrives(engine: Engine, tls: ssl.SSLContext) -> None:
    with smtp_server(engine, tls=tls, login=("shop", "hunter2")) as (port, messages):
        seed_channel(engine, "ch_mail", "email", {**mail_config(port), "starttls": True, "username": "shop",
                                          "password": "hunter2"})
        queued = queue(engine, channel_id="ch_mail")
        dispatch_due(engine)
    assert delivery(engine, queued.id).status == "sent"
    assert [m["to"] for m in messages] == [["ann@example.com"]]


def test_email_with_a_wrong_password_fails_without_retry(engine: Engine, tls: ssl.SSLContext) -> None:
    with smtp_server(engine, tls=tls, login=("shop", "hunter2")) as (port, messages):
        seed_channel(engine, "ch_mail", "email", {**mail_config(port), "starttls": True, "username": "shop",
                                          "password": "wrong"})
        queued = queue(engine, channel_id="ch_mail")
        dispatch_due(engine)
    row = delivery(engine, queued.id)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error.startswith("SMTP 535")
    assert messages == []


def test_email_without_starttls_to_a_server_that_requires_it_is_refused(
        engine: Engine, tls: ssl.SSLContext) -> None:
    with smtp_server(engine, tls=tls) as (port, messages):
        seed_channel(engine, "ch_mail", "email", mail_config(port))
        queued = queue(engine, channel_id="ch_mail")
        dispatch_due(engine)
    row = delivery(engine, queued.id)
    assert row.status == "failed"
    assert "STARTTLS" in row.last_error
    assert messages == []
