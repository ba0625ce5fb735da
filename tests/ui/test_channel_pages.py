"""The channels and deliveries pages under NiceGUI's simulated user."""

from __future__ import annotations

from typing import Any

import pytest
from nicegui import ui
from nicegui.testing import User

from engine.delivery import channels_admin
from engine.delivery.dispatcher import dispatch_due
from engine.engine import Engine
from models.channels import Channel, ChannelCreate
from tests.delivery_kit import queue, seed_customer, seed_offer
from tests.ui.conftest import sign_in
from tests.ui.kit import one
from tests.ui.test_login import add_user

HOOK = {"url": "https://hooks.example.com/in", "headers": {"Authorization": "Bearer s3cret"}}


def _stored(engine: Engine, channel_id: str) -> Channel:
    with engine.session() as s:
        return s.get_one(Channel, channel_id)


def _hook(engine: Engine, channel_id: str = "ch_hook", **config: Any) -> None:
    channels_admin.create_channel(engine, ChannelCreate(id=channel_id, name="Partner hook", type="webhook",
                                               config={**HOOK, **config}))


def _set(user: User, marker: str, value: Any) -> None:
    user.find(marker=marker).elements.pop().set_value(value)


async def test_channel_list_shows_targets_and_edit_shows_secrets_masked(engine: Engine, user: User) -> None:
    _hook(engine)
    await user.open("/channels")
    await user.should_see("Partner hook")
    await user.should_see("https://hooks.example.com/in")
    user.find(marker="edit-ch_hook").click()
    await user.should_see(marker="http-headers")
    assert user.find(marker="http-headers").elements.pop().value == "Authorization: ***"
    await user.should_not_see("s3cret")


async def test_editing_with_the_masked_header_keeps_the_stored_secret(engine: Engine, user: User) -> None:
    _hook(engine)
    await user.open("/channels")
    user.find(marker="edit-ch_hook").click()
    _set(user, "channel-name", "Renamed hook")
    _set(user, "channel-rate", 3)
    user.find(marker="channel-save").click()
    await user.should_see("Saved channel Renamed hook")
    stored = _stored(engine, "ch_hook")
    assert (stored.name, stored.rate_limit, stored.config["headers"]) == (
        "Renamed hook", 3, {"Authorization": "Bearer s3cret"})


async def test_new_email_channel_is_created_from_the_type_specific_form(engine: Engine, user: User) -> None:
    await user.open("/channels")
    await user.should_see(marker="empty")
    user.find(marker="new-channel").click()
    _set(user, "channel-name", "Newsletter")
    _set(user, "channel-id", "ch_mail")
    _set(user, "channel-type", "email")
    await user.should_see(marker="email-host")
    _set(user, "email-host", "smtp.example.com")
    _set(user, "email-port", 587)
    _set(user, "email-starttls", True)
    _set(user, "email-username", "shop")
    _set(user, "email-password", "hunter2")
    _set(user, "email-from", "shop@example.com")
    user.find(marker="channel-save").click()
    await user.should_see("Saved channel Newsletter")
    assert _stored(engine, "ch_mail").config == {"host": "smtp.example.com", "port": 587, "starttls": True,
                                         "username": "shop", "password": "hunter2",
                                         "fromAddress": "shop@example.com"}


async def test_invalid_config_names_the_field_and_keeps_the_dialog_open(engine: Engine, user: User) -> None:
    await user.open("/channels")
    user.find(marker="new-channel").click()
    _set(user, "channel-name", "Broken")
    _set(user, "http-url", "not a url")
    user.find(marker="channel-save").click()
    await user.should_see("config.url")
    _set(user, "http-url", "https://ok.example.com")
    _set(user, "http-headers", "no colon here")
    user.find(marker="channel-save").click()
    await user.should_see("headers line 1")
    assert channels_admin.list_channels(engine)["pagination"]["total"] == 0


async def test_send_test_queues_a_delivery_and_says_so(engine: Engine, user: User) -> None:
    seed_customer(engine, "cus_ann")
    seed_offer(engine, "off_tea")
    channels_admin.create_channel(engine, ChannelCreate(id="ch_inapp", name="Inbox", type="in_app"))
    await user.open("/channels")
    user.find(marker="test-ch_inapp").click()
    await user.should_see(marker="test-send")
    _set(user, "test-customer", "cus_nobody")
    _set(user, "test-offer", "off_tea")
    user.find(marker="test-send").click()
    await user.should_see("customer cus_nobody not found")
    _set(user, "test-customer", "cus_ann")
    user.find(marker="test-send").click()
    await user.should_see("Queued delivery")
    assert dispatch_due(engine) == 1


class TestViewer:
    @pytest.fixture
    def sign_in_as(self) -> None:
        return None

    async def test_a_viewer_cannot_open_the_test_send(self, engine: Engine, user: User) -> None:
        channels_admin.create_channel(engine, ChannelCreate(id="ch_inapp", name="Inbox", type="in_app"))
        await sign_in(user, *add_user(engine, "viewer"))
        await user.open("/channels")
        await user.should_see("Inbox")
        assert not one(user, "test-ch_inapp").enabled
        user.find(marker="test-ch_inapp").click()
        await user.should_not_see(marker="test-send")


async def test_deleting_a_channel_after_confirming(engine: Engine, user: User) -> None:
    _hook(engine)
    await user.open("/channels")
    user.find(marker="delete-ch_hook").click()
    user.find(marker="confirm-delete").click()
    await user.should_see(marker="empty")
    assert channels_admin.list_channels(engine)["pagination"]["total"] == 0


def _table_rows(user: User) -> list[dict[str, Any]]:
    [table] = user.find(marker="deliveries").elements
    assert isinstance(table, ui.table)
    return table.rows


async def test_deliveries_page_shows_tiles_filters_and_attempts(engine: Engine, user: User) -> None:
    seed_customer(engine, "cus_ann")
    seed_offer(engine, "off_tea")
    channels_admin.create_channel(engine, ChannelCreate(id="ch_inapp", name="Inbox", type="in_app"))
    sent = queue(engine, "a", channel_id="ch_inapp")
    failed = queue(engine, "b", channel_id="ch_gone")
    dispatch_due(engine)
    queue(engine, "c", channel_id="ch_inapp")
    await user.open("/deliveries")
    await user.should_see(marker="tile-sent", content="1")
    await user.should_see(marker="tile-failed", content="1")
    await user.should_see(marker="tile-queued", content="1")
    await user.should_see("3 deliveries")
    _set(user, "filter-status", "failed")
    await user.should_see("1 delivery")
    assert [row["id"] for row in _table_rows(user)] == [failed.id]
    assert _table_rows(user)[0]["lastError"] == "channel ch_gone not found"
    _set(user, "filter-status", "")
    _set(user, "filter-channel", "ch_inapp")
    await user.should_see("2 deliveries")
    user.find(marker="deliveries").trigger("rowClick", [{}, {"id": sent.id}, 0])
    await user.should_see(marker="delivery-detail")
    await user.should_see("delivered")
    await user.should_see("Attempts (1)")


async def test_deliveries_page_takes_filters_from_the_address(engine: Engine, user: User) -> None:
    queue(engine, "a", channel_id="ch_inapp", customer_id="cus_ann")
    queue(engine, "b", channel_id="ch_inapp", customer_id="cus_bob")
    await user.open("/deliveries?customer=cus_bob&status=queued")
    await user.should_see("1 delivery")
    assert [row["customerId"] for row in _table_rows(user)] == ["cus_bob"]


async def test_switching_between_http_types_keeps_url_and_masked_headers(engine: Engine, user: User) -> None:
    _hook(engine)
    await user.open("/channels")
    user.find(marker="edit-ch_hook").click()
    _set(user, "channel-type", "sms")
    assert user.find(marker="http-url").elements.pop().value == "https://hooks.example.com/in"
    user.find(marker="channel-save").click()
    await user.should_see("Saved channel Partner hook")
    stored = _stored(engine, "ch_hook")
    assert (stored.type, stored.config["headers"]) == ("sms", {"Authorization": "Bearer s3cret"})


async def test_deliveries_page_follows_the_dispatcher_live(engine: Engine, user: User) -> None:
    seed_customer(engine, "cus_ann")
    seed_offer(engine, "off_tea")
    channels_admin.create_channel(engine, ChannelCreate(id="ch_inapp", name="Inbox", type="in_app"))
    queue(engine, "a", channel_id="ch_inapp")
    await user.open("/deliveries")
    await user.should_see(marker="tile-queued", content="1")
    assert dispatch_due(engine) == 1  # publishes on the live bus; the open page re-reads once
    await user.should_see(marker="tile-sent", content="1", retries=30)
    await user.should_see(marker="tile-queued", content="0")
