"""Offers and decision flows (times naive UTC: NaiveDatetime, as sqlmodel wants an offset otherwise)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, NaiveDatetime, StrictFloat, field_validator
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from models.common import CamelModel, CelExpression, DateTime, WholeNumber, json_field, text_or


class Offer(SQLModel, table=True):
    id: str = SQLField(primary_key=True, max_length=64)
    name: str = SQLField(max_length=255)
    description: str = ""
    category: str = SQLField(default="", index=True, max_length=120)
    status: str = SQLField(default="active", max_length=16)
    eligibility: str | None = None
    # A number in 0..1, or a CEL expression (string) yielding one.
    propensity: Any = json_field(lambda: 0.5, nullable=True)
    business_value: float = 1.0
    priority: float = 1.0
    start_date: NaiveDatetime | None = None
    end_date: NaiveDatetime | None = None
    # {"<channel type>": {"subject": "...", "body": "..."}}
    creatives: dict[str, Any] = json_field(dict)
    created_at: NaiveDatetime
    updated_at: NaiveDatetime


class DecisionFlow(SQLModel, table=True):
    id: str = SQLField(primary_key=True, max_length=64)
    name: str = SQLField(max_length=255)
    description: str = ""
    offer_ids: list[str] = json_field(list)
    categories: list[str] = json_field(list)
    rules: list[Any] = json_field(list)
    # {"maxPerOffer", "windowDays", "maxPerDay"}
    contact_policy: dict[str, Any] = json_field(dict)
    # {"propensity", "relevance", "impact", "emphasis"}
    weights: dict[str, Any] = json_field(dict)
    max_offers: int = 1
    created_at: NaiveDatetime
    updated_at: NaiveDatetime


# ---- API bodies -----------------------------------------------------------------------------------------

OFFER_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
CREATIVE_CHANNELS = ("email", "webhook", "sms", "push", "in_app")
OfferStatus = Literal["active", "inactive"]
# A propensity: a number in 0..1, or a CEL expression yielding one.
Propensity = Annotated[
    float | str, text_or(CelExpression, Annotated[StrictFloat, Field(ge=0, le=1, allow_inf_nan=False)])]


class Creative(CamelModel):
    subject: str | None = Field(None, max_length=1000)
    body: str | None = Field(None, max_length=20_000)


class OfferFields(CamelModel):
    """Everything an offer has besides its id; every field optional (updates send only what changes)."""

    # Optional to send, never null (a default the type refuses: an explicit null is a 422).
    name: str = Field(None, min_length=1, max_length=255)
    description: str | None = Field(None, max_length=2000)
    category: str | None = Field(None, max_length=120)
    status: OfferStatus | None = None
    eligibility: CelExpression | None = None
    propensity: Propensity | None = None
    business_value: StrictFloat | None = None
    priority: StrictFloat | None = None
    start_date: DateTime | None = None
    end_date: DateTime | None = None
    creatives: dict[str, Creative] | None = Field(
        None, json_schema_extra={"propertyNames": {"enum": list(CREATIVE_CHANNELS)}})

    @field_validator("start_date", "end_date")
    @classmethod
    def _naive_utc(cls, value: datetime | None) -> datetime | None:
        # Stored and compared as naive UTC, like every time in the database.
        if value is None or value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None)

    @field_validator("creatives")
    @classmethod
    def _creative_channels(cls, value: dict[str, Creative] | None) -> dict[str, Creative] | None:
        unknown = sorted(set(value or {}) - set(CREATIVE_CHANNELS))
        if unknown:
            known = ", ".join(CREATIVE_CHANNELS)
            raise ValueError(f"unknown channel type {unknown[0]!r}; use one of {known}")
        return value


class OfferIn(OfferFields):
    id: str | None = Field(None, pattern=OFFER_ID_PATTERN)
    name: str = Field(min_length=1, max_length=255)


class RelevanceRule(CamelModel):
    """A scoring rule: when `expression` is true the offer's relevance is multiplied by `relevance`."""

    name: str | None = Field(None, max_length=120)
    expression: CelExpression
    relevance: StrictFloat | None = Field(None, ge=0, allow_inf_nan=False)


# A plain CEL string is a qualification rule (false drops the offer); an object may carry a relevance.
# Held as Any: the validator gives a str or a RelevanceRule, which a str | RelevanceRule serializer would see
# as the dict it dumps first, and warn about.
DecisionRule = Annotated[Any, text_or(CelExpression, RelevanceRule)]


class ContactPolicy(CamelModel):
    max_per_offer: Annotated[int, Field(ge=1, le=10_000), WholeNumber] | None = None
    window_days: StrictFloat = Field(7, gt=0, le=3650)
    max_per_day: Annotated[int, Field(ge=1, le=10_000), WholeNumber] | None = None


class Weights(CamelModel):
    propensity: StrictFloat = Field(1, ge=0, le=100)
    relevance: StrictFloat = Field(1, ge=0, le=100)
    impact: StrictFloat = Field(1, ge=0, le=100)
    emphasis: StrictFloat = Field(1, ge=0, le=100)


class DecisionFlowFields(CamelModel):
    # Optional to send, never null (a default the type refuses: an explicit null is a 422).
    name: str = Field(None, min_length=1, max_length=255)
    description: str | None = Field(None, max_length=2000)
    offer_ids: list[str] | None = Field(None, max_length=1000)
    categories: list[str] | None = Field(None, max_length=100)
    rules: list[DecisionRule] | None = Field(None, max_length=100)
    contact_policy: ContactPolicy | None = None
    weights: Weights | None = None
    max_offers: Annotated[int, Field(ge=1, le=10), WholeNumber] | None = None


class DecisionFlowIn(DecisionFlowFields):
    id: str | None = Field(None, pattern=OFFER_ID_PATTERN)
    name: str = Field(min_length=1, max_length=255)


class RecommendIn(CamelModel):
    customer_id: str = Field(min_length=1, max_length=128)
    decision_flow_id: str = Field(min_length=1, max_length=64)
    limit: Annotated[int, Field(ge=1, le=10), WholeNumber] | None = None
