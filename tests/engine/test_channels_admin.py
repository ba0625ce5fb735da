"""Channel administration in the engine: a stored secret stays with the destination it was entered for, a
test send needs an editor, and reading channels never waits for the SQLite write lock."""

from __future__ import annotations

import sqlite3
import ssl
import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.access.roles import Actor, Forbidden
from engine.delivery import channels_admin
from engine.delivery.dispatcher import dispatch_due
from engine.engine import Engine
from engine.errors import Invalid
from models import channels as channel_models
from models.channels import MASK, Channel, ChannelCreate, ChannelUpdate, Delivery
from tests.delivery_kit import (
    http_config,
    http_receiver,
    mail_config,
    seed_channel,
    seed_customer,
    seed_offer,
    smtp_server,
)

pytestmark = pytest.mark.usefixtures("engine")

VIEWER = Actor(kind="user", id="usr_vi", name="vi@example.com", role="viewer")
EDITOR = Actor(kind="user", id="usr_ed", name="ed@example.com", role="editor")
# Through the module: a name starting "Test" here would be taken for a test class.
TEST_SEND = channel_models.TestDeliveryIn(customer_id="cus_ann", offer_id="off_tea")


@pytest.fixture(autouse=True)
def _audience(engine: Engine) -> None:
    seed_customer(engine, "cus_ann")
    seed_offer(engine, "off_tea")


def _stored(engine: Engine, channel_id: str) -> dict[str, Any]:
    with engine.session() as s:
        return s.get_one(Channel, channel_id).config


def _update_config(engine: Engine, channel_id: str, config: dict[str, Any]) -> dict[str, Any]:
    return channels_admin.update_channel(engine, channel_id, ChannelUpdate(config=config))


def _deliveries(engine: Engine) -> int:
    with engine.session() as s:
        return s.execute(select(func.count()).select_from(Delivery)).scalar_one()


def test_a_kept_header_secret_is_refused_for_a_new_host_and_never_reaches_it(engine: Engine) -> None:
    with http_receiver(engine) as old, http_receiver(engine) as new:
        config = http_config(old.url, Authorization="Bearer s3cret")
        channels_admin.create_channel(engine, ChannelCreate(id="ch_hook", name="Hook", type="webhook",
                                                            config=config))
        masked = channels_admin.get_channel(engine, "ch_hook")["config"]
        with pytest.raises(Invalid) as refused:
            _update_config(engine, "ch_hook", {**masked, "url": new.url})
        assert refused.value.details["field"] == "config.headers.Authorization"
        assert "enter it again" in refused.value.message
        assert _stored(engine, "ch_hook")["url"] == old.url
        channels_admin.send_test(engine, "ch_hook", TEST_SEND)
        assert dispatch_due(engine) == 1
        assert [r["headers"]["Authorization"] for r in old.requests] == ["Bearer s3cret"]
        assert new.requests == []
        # Entered again, the secret goes to the new host.
        _update_config(engine, "ch_hook",
                       {**masked, "url": new.url, "headers": {"Authorization": "Bearer n3w"}})
        channels_admin.send_test(engine, "ch_hook", TEST_SEND)
        assert dispatch_due(engine) == 1
    assert [r["headers"]["Authorization"] for r in new.requests] == ["Bearer n3w"]


def test_a_kept_url_credential_is_refused_for_a_new_port_but_kept_for_a_new_path(engine: Engine) -> None:
    seed_channel(engine, "ch_hook", "webhook", http_config("https://bot:t0ken@hooks.example.com/in"))
    _update_config(engine, "ch_hook", http_config("https://***@hooks.example.com/v2"))
    assert _stored(engine, "ch_hook")["url"] == "https://bot:t0ken@hooks.example.com/v2"
    with pytest.raises(Invalid) as refused:
        _update_config(engine, "ch_hook", http_config("https://***@hooks.example.com:8443/v2"))
    assert refused.value.details["field"] == "config.url"


def test_a_kept_header_secret_follows_a_type_change_only_to_the_same_destination(engine: Engine) -> None:
    seed_channel(engine, "ch_hook", "webhook",
                 http_config("https://hooks.example.com/in", Authorization="Bearer s3cret"))
    masked = {"Authorization": MASK}
    with pytest.raises(Invalid) as refused:
        channels_admin.update_channel(engine, "ch_hook", ChannelUpdate(
            type="sms", config=http_config("https://sms.example.com/in", **masked)))
    assert refused.value.details["field"] == "config.headers.Authorization"
    channels_admin.update_channel(engine, "ch_hook", ChannelUpdate(
        type="sms", config=http_config("https://hooks.example.com/sms", **masked)))
    assert _stored(engine, "ch_hook")["headers"] == {"Authorization": "Bearer s3cret"}


def test_a_kept_smtp_password_is_refused_for_a_new_port_and_never_reaches_it(
        engine: Engine, tls: ssl.SSLContext) -> None:
    login = ("shop", "hunter2")
    with smtp_server(engine, tls=tls, login=login) as (old_port, old_mail), \
            smtp_server(engine, tls=tls, login=login) as (new_port, new_mail):
        config = {**mail_config(old_port), "starttls": True, "username": "shop", "password": "hunter2"}
        channels_admin.create_channel(engine, ChannelCreate(id="ch_mail", name="Mail", type="email",
                                                            config=config))
        moved = {**config, "port": new_port, "password": MASK}
        with pytest.raises(Invalid) as refused:
            _update_config(engine, "ch_mail", moved)
        assert refused.value.details["field"] == "config.password"
        assert _stored(engine, "ch_mail")["port"] == old_port
        channels_admin.send_test(engine, "ch_mail", TEST_SEND)
        assert dispatch_due(engine) == 1
        assert (len(old_mail), new_mail) == (1, [])
        # The same host and port keep the password; a password entered again moves with the channel.
        _update_config(engine, "ch_mail", {**config, "password": MASK, "starttls": True})
        _update_config(engine, "ch_mail", {**moved, "password": "hunter2"})
        channels_admin.send_test(engine, "ch_mail", TEST_SEND)
        assert dispatch_due(engine) == 1
    assert len(new_mail) == 1


def test_a_kept_smtp_username_is_refused_for_a_new_host(engine: Engine) -> None:
    seed_channel(engine, "ch_mail", "email", {**mail_config(587), "host": "smtp.example.com",
                                              "username": "shop", "password": "hunter2"})
    with pytest.raises(Invalid) as refused:
        _update_config(engine, "ch_mail", {**mail_config(587), "host": "smtp.example.net", "username": MASK,
                                           "password": "hunter2"})
    assert refused.value.details["field"] == "config.username"
    _update_config(engine, "ch_mail", {**mail_config(587), "host": "SMTP.example.com", "username": MASK,
                                       "password": MASK})
    stored = _stored(engine, "ch_mail")
    assert (stored["username"], stored["password"]) == ("shop", "hunter2")


def test_viewer_test_send_is_refused_and_nothing_queued(engine: Engine) -> None:
    seed_channel(engine, "ch_inapp", "in_app", {})
    with pytest.raises(Forbidden) as refused:
        channels_admin.send_test(engine.as_actor(VIEWER), "ch_inapp", TEST_SEND)
    assert refused.value.message == "editors and admins may send test deliveries; you are a viewer"
    assert _deliveries(engine) == 0
    channels_admin.send_test(engine.as_actor(EDITOR), "ch_inapp", TEST_SEND)
    assert _deliveries(engine) == 1


def _while_write_locked(engine: Engine, read: Any) -> tuple[bool, Any]:
    """Run `read` in a thread while a raw connection holds the SQLite write lock; (whether it finished
    within 3 s, its answer)."""
    answer: list[Any] = []
    locker = sqlite3.connect(engine.db.engine.url.database, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    try:
        reader = threading.Thread(target=lambda: answer.append(read()), daemon=True)
        reader.start()
        reader.join(3)
        done = not reader.is_alive()
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    reader.join()
    return done, answer[0] if answer else None


def test_reading_channels_does_not_wait_for_the_write_lock(engine: Engine) -> None:
    if not engine.db.is_sqlite:
        pytest.skip("the write lock a writer session takes is SQLite's")
    seed_channel(engine, "ch_inapp", "in_app", {})
    done, channel = _while_write_locked(engine, lambda: channels_admin.get_channel(engine, "ch_inapp"))
    assert done and channel["id"] == "ch_inapp"
    done, page = _while_write_locked(engine, lambda: channels_admin.list_channels(engine, type="in_app"))
    assert done and [c["id"] for c in page["data"]] == ["ch_inapp"]
