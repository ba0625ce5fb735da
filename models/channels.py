"""Channels, the delivery outbox with its attempts, responses and the in-app inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from models.common import json_field

DELIVERY_STATUSES = ("queued", "sent", "failed", "suppressed")
OUTCOMES = ("impression", "click", "conversion", "dismiss")


class Channel(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=255)
    type: str = Field(max_length=16)  # email | webhook | sms | push | in_app
    config: dict[str, Any] = json_field(dict)
    # Deliveries per second at most; None = unlimited.
    rate_limit: float | None = None
    created_at: datetime
    updated_at: datetime


class Delivery(SQLModel, table=True):
    """The transactional outbox: written in the step's transaction, delivered by the dispatcher."""

    __table_args__ = (
        Index("ix_delivery_due", "status", "next_attempt_at"),
        Index("ix_delivery_contact", "customer_id", "offer_id", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=64)
    idempotency_key: str = Field(unique=True, max_length=255)
    customer_id: str = Field(max_length=128)
    channel_id: str = Field(max_length=64, index=True)
    offer_id: str | None = Field(default=None, max_length=64)
    journey_id: str | None = Field(default=None, max_length=64, index=True)
    enrollment_id: str | None = Field(default=None, max_length=64, index=True)
    step_id: str | None = Field(default=None, max_length=64)
    status: str = Field(default="queued", max_length=16)
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    # What to render: template override and the journey context at queue time.
    payload: dict[str, Any] = json_field(dict)
    subject: str | None = None
    body: str | None = None
    lease_until: datetime | None = None
    created_at: datetime
    sent_at: datetime | None = None


class DeliveryAttempt(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(max_length=64, index=True)
    at: datetime
    ok: bool
    error: str | None = None


class Response(SQLModel, table=True):
    __table_args__ = (Index("ix_response_enrollment_at", "enrollment_id", "at"),)

    id: str = Field(primary_key=True, max_length=64)
    delivery_id: str | None = Field(default=None, max_length=64, index=True)
    customer_id: str = Field(max_length=128, index=True)
    offer_id: str | None = Field(default=None, max_length=64)
    journey_id: str | None = Field(default=None, max_length=64)
    enrollment_id: str | None = Field(default=None, max_length=64)
    step_id: str | None = Field(default=None, max_length=64)
    outcome: str = Field(max_length=16)
    at: datetime


class InboxMessage(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(max_length=128, index=True)
    delivery_id: str = Field(max_length=64, unique=True)
    channel_id: str = Field(max_length=64)
    offer_id: str | None = Field(default=None, max_length=64)
    subject: str = ""
    body: str = ""
    created_at: datetime
    read_at: datetime | None = None
