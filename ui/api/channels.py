"""Channels: CRUD (secrets masked in every answer) and a test send."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Response

from engine import channel_admin
from models.channels import ChannelCreate, ChannelUpdate, TestDeliveryIn
from ui.api.paging import Paging, paging

router = APIRouter(tags=["channels"])


@router.get("/channels")
def list_channels(type: str | None = Query(None, description="email, webhook, sms, push or in_app"),
                  page: Paging = Depends(paging)) -> dict[str, Any]:
    return channel_admin.list_channels(type=type, limit=page.limit, offset=page.offset)


@router.post("/channels", status_code=201)
def create_channel(body: ChannelCreate) -> dict[str, Any]:
    return channel_admin.create_channel(body)


@router.get("/channels/{channel_id}")
def get_channel(channel_id: str) -> dict[str, Any]:
    return channel_admin.get_channel(channel_id)


@router.put("/channels/{channel_id}")
def update_channel(channel_id: str, body: ChannelUpdate) -> dict[str, Any]:
    return channel_admin.update_channel(channel_id, body)


@router.delete("/channels/{channel_id}", status_code=204)
def delete_channel(channel_id: str) -> Response:
    channel_admin.delete_channel(channel_id)
    return Response(status_code=204)


@router.post("/channels/{channel_id}/test", status_code=201)
def send_test(channel_id: str, body: TestDeliveryIn) -> dict[str, Any]:
    """Queue a real delivery of `offerId` to `customerId` through this channel; answers the delivery."""
    return channel_admin.send_test(channel_id, body)
