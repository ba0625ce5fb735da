"""Channels: CRUD (secrets masked in every answer) and a test send."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from engine.delivery import channels_admin
from models.channels import ChannelCreate, ChannelType, ChannelUpdate, TestDeliveryIn
from ui.api.item_routes import add_item_routes
from ui.api.paging import Paging, paging
from ui.dependencies import EngineDep

router = APIRouter(tags=["channels"])


@router.get("/channels")
def list_channels(engine: EngineDep,
                  type: ChannelType | None = Query(None, description="only channels of this type"),
                  page: Paging = Depends(paging)) -> dict[str, Any]:
    return channels_admin.list_channels(engine, type=type, limit=page.limit, offset=page.offset)


@router.post("/channels", status_code=201)
def create_channel(engine: EngineDep, body: ChannelCreate) -> dict[str, Any]:
    return channels_admin.create_channel(engine, body)


add_item_routes(router, "/channels/{channel_id}", get=channels_admin.get_channel,
                update=channels_admin.update_channel, delete=channels_admin.delete_channel,
                body=ChannelUpdate,
                methods=("PUT",))


@router.post("/channels/{channel_id}/test", status_code=201)
def send_test(engine: EngineDep, channel_id: str, body: TestDeliveryIn) -> dict[str, Any]:
    """Queue a real delivery of `offerId` to `customerId` through this channel; answers the delivery."""
    return channels_admin.send_test(engine, channel_id, body)
