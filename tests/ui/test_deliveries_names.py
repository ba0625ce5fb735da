"""The deliveries page reads in names: customer, channel, offer (or "message" for one written in the step),
journey and step, with the ids as secondary text; the detail dialog says the same in a sentence."""

from __future__ import annotations

from typing import Any

from nicegui import ui
from nicegui.testing import User

from engine.delivery import channels_admin
from engine.delivery.dispatcher import dispatch_due
from engine.engine import Engine
from engine.journeys import lifecycle
from models.channels import ChannelCreate
from models.journey import JourneyCreate
from tests.delivery_kit import queue, seed_customer, seed_offer

STEP = {"id": "send1", "type": "send", "name": "Say hello",
        "config": {"channelId": "ch_inapp", "template": {"body": "Hello"}}}


def rows(user: User) -> list[dict[str, Any]]:
    [table] = user.find(marker="deliveries").elements
    assert isinstance(table, ui.table)
    return table.rows


async def test_deliveries_table_shows_names_with_ids_as_secondary_text(engine: Engine, user: User) -> None:
    seed_customer(engine, "cus_ann", name="Ann Lee")
    seed_offer(engine, "off_tea", name="Green tea")
    channels_admin.create_channel(engine, ChannelCreate(id="ch_inapp", name="Inbox", type="in_app"))
    journey = lifecycle.create_journey(
        engine, JourneyCreate.model_validate({"name": "Welcome", "steps": [STEP]}))
    message = queue(engine, "a", channel_id="ch_inapp", offer_id=None, journey_id=journey.id,
                    template={"subject": "Hi", "body": "Hello"})
    queue(engine, "b", channel_id="ch_inapp", journey_id=None)
    dispatch_due(engine)
    await user.open("/deliveries")
    await user.should_see("2 deliveries")
    shown = {row["id"]: row for row in rows(user)}
    first = shown[message.id]
    assert (first["customer"], first["customerId"]) == ("Ann Lee", "cus_ann")
    assert (first["channel"], first["content"]) == ("Inbox", "message")
    assert (first["journey"], first["stepName"]) == ("Welcome", "Say hello")
    [other] = [row for row in shown.values() if row["id"] != message.id]
    assert (other["content"], other["journey"]) == ("Green tea", "—")
    user.find(marker="deliveries").trigger("rowClick", [{}, {"id": message.id}, 0])
    await user.should_see("To Ann Lee via Inbox: a message written in the step")
    await user.should_see("Journey Welcome · step Say hello")
