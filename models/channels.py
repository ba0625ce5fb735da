"""Channels, the delivery outbox with its attempts and counters, responses and the in-app inbox.

Times are naive UTC (NaiveDatetime: sqlmodel otherwise demands an offset).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field as PydanticField
from pydantic import NaiveDatetime, StrictBool, StrictFloat
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from models.common import CamelModel, JsonObject, WholeNumber, json_field

DELIVERY_STATUSES = ("queued", "sent", "failed", "suppressed")
OUTCOMES = ("impression", "click", "conversion", "dismiss")


class Channel(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=255)
    type: str = Field(max_length=16)  # email | webhook | sms | push | in_app
    config: dict[str, Any] = json_field(dict)
    # Deliveries per second at most; None = unlimited.
    rate_limit: float | None = None
    created_at: NaiveDatetime
    updated_at: NaiveDatetime


class Delivery(SQLModel, table=True):
    """The transactional outbox: written in the step's transaction, delivered by the dispatcher."""

    __table_args__ = (
        Index("ix_delivery_due", "status", "next_attempt_at"),
        Index("ix_delivery_contact", "customer_id", "offer_id", "created_at"),
        # The outbox list is newest first.
        Index("ix_delivery_created", "created_at"),
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
    next_attempt_at: NaiveDatetime | None = None
    # What to render: template override and the journey context at queue time.
    payload: dict[str, Any] = json_field(dict)
    subject: str | None = None
    body: str | None = None
    lease_until: NaiveDatetime | None = None
    created_at: NaiveDatetime
    sent_at: NaiveDatetime | None = None


class DeliveryAttempt(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(max_length=64, index=True)
    at: NaiveDatetime
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
    at: NaiveDatetime


class DeliveryCounter(SQLModel, table=True):
    """Deliveries per journey, step, channel and status, kept exact in the transaction of every status
    change ("" for no journey or step: channel test sends), so monitors read them by key."""

    journey_id: str = Field(primary_key=True, max_length=64)
    step_id: str = Field(primary_key=True, max_length=64)
    channel_id: str = Field(primary_key=True, max_length=64)
    status: str = Field(primary_key=True, max_length=16)
    count: int = 0


class ResponseCounter(SQLModel, table=True):
    """Deliveries of a journey step that drew an outcome: each delivery counted once per outcome."""

    journey_id: str = Field(primary_key=True, max_length=64)
    step_id: str = Field(primary_key=True, max_length=64)
    outcome: str = Field(primary_key=True, max_length=16)
    count: int = 0


class InboxMessage(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(max_length=128, index=True)
    delivery_id: str = Field(max_length=64, unique=True)
    channel_id: str = Field(max_length=64)
    offer_id: str | None = Field(default=None, max_length=64)
    subject: str = ""
    body: str = ""
    created_at: NaiveDatetime
    read_at: NaiveDatetime | None = None


# ---- wire schemas -------------------------------------------------------------------------------------

CHANNEL_TYPES = ("email", "webhook", "sms", "push", "in_app")
ChannelType = Literal["email", "webhook", "sms", "push", "in_app"]
Outcome = Literal["impression", "click", "conversion", "dismiss"]
# What the API answers in place of a stored secret; sending it back on update keeps the stored value.
MASK = "***"


class EmailConfig(CamelModel):
    host: str = PydanticField(min_length=1, max_length=255)
    port: Annotated[int, PydanticField(ge=1, le=65535), WholeNumber] = 25
    starttls: StrictBool = False
    username: str | None = PydanticField(None, max_length=255)
    password: str | None = PydanticField(None, max_length=1000)
    from_address: str = PydanticField(min_length=3, max_length=255, pattern=r"^[^@\s]+@[^@\s]+$")


HeaderName = Annotated[str, PydanticField(pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")]
HeaderValue = Annotated[str, PydanticField(max_length=4000, pattern=r"^[^\r\n]*$")]


class HttpEndpointConfig(CamelModel):
    """webhook, sms and push: an HTTP endpoint that receives a JSON POST."""

    url: str = PydanticField(min_length=1, max_length=2000, pattern=r"^https?://\S+$")
    headers: dict[HeaderName, HeaderValue] = PydanticField(default_factory=dict, max_length=50)
    timeout_seconds: StrictFloat = PydanticField(10.0, gt=0, le=120)


class InAppConfig(CamelModel):
    """in_app needs no settings: messages go to the customer's stored inbox."""


CONFIG_SCHEMAS: dict[str, type[CamelModel]] = {
    "email": EmailConfig,
    "webhook": HttpEndpointConfig,
    "sms": HttpEndpointConfig,
    "push": HttpEndpointConfig,
    "in_app": InAppConfig,
}


class ChannelCreate(CamelModel):
    id: str | None = PydanticField(None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    name: str = PydanticField(min_length=1, max_length=255)
    type: ChannelType
    # Checked per type by engine.delivery.channels_admin, so a bad field is named `config.<field>`.
    config: JsonObject = PydanticField(default_factory=dict)
    rate_limit: StrictFloat | None = PydanticField(None, gt=0, le=100_000)


class ChannelUpdate(CamelModel):
    """All optional; `config` replaces the whole config ("***" keeps a stored secret)."""

    # Optional to send, never null (a default the type refuses: an explicit null is a 422).
    name: str = PydanticField(None, min_length=1, max_length=255)
    type: ChannelType = None
    config: JsonObject | None = None
    rate_limit: StrictFloat | None = PydanticField(None, gt=0, le=100_000)


class TestDeliveryIn(CamelModel):
    customer_id: str = PydanticField(min_length=1, max_length=128)
    offer_id: str = PydanticField(min_length=1, max_length=64)


class RespondIn(CamelModel):
    """Either `deliveryId`, or `customerId` with `offerId`."""

    # What engine.delivery.responses checks, stated for the OpenAPI document.
    model_config = {"json_schema_extra": {"anyOf": [
        {"required": ["deliveryId"], "properties": {"deliveryId": {"type": "string"}}},
        {"required": ["customerId", "offerId"],
         "properties": {"customerId": {"type": "string"}, "offerId": {"type": "string"}}},
    ]}}

    delivery_id: str | None = PydanticField(None, max_length=64)
    customer_id: str | None = PydanticField(None, max_length=128)
    offer_id: str | None = PydanticField(None, max_length=64)
    outcome: Outcome
