"""Customers, segments with their materialised membership and its change log, and events.

Times are naive UTC; NaiveDatetime makes sqlmodel store them as such (plain `datetime` demands an offset).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field as PydanticField
from pydantic import NaiveDatetime, StrictBool, model_validator
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from models.common import CamelModel, CelExpression, DateTime, JsonObject, json_field


class Customer(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=128)
    attributes: dict[str, Any] = json_field(dict)
    flags: dict[str, Any] = json_field(dict)
    created_at: NaiveDatetime
    updated_at: NaiveDatetime


class Segment(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=255)
    description: str = ""
    # A CEL condition over `customer`; None for a static segment (explicit add/remove).
    rule: str | None = None
    static: bool = False
    created_at: NaiveDatetime
    updated_at: NaiveDatetime


class SegmentMember(SQLModel, table=True):
    segment_id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(primary_key=True, max_length=128, index=True)
    joined_at: NaiveDatetime


class SegmentChange(SQLModel, table=True):
    """Joined/left log, read by the runtime to enroll customers who join an entry segment."""

    __table_args__ = (Index("ix_segmentchange_segment_at", "segment_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    segment_id: str = Field(max_length=64)
    customer_id: str = Field(max_length=128)
    joined: bool
    at: NaiveDatetime


class Event(SQLModel, table=True):
    __table_args__ = (Index("ix_event_customer_type", "customer_id", "type"),)

    id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(max_length=128)
    type: str = Field(max_length=120, index=True)
    properties: dict[str, Any] = json_field(dict)
    occurred_at: NaiveDatetime
    received_at: NaiveDatetime


# ---- API bodies -----------------------------------------------------------------------------------------

CUSTOMER_ID_PATTERN = r"^[^\s/\x00][^/\x00]{0,127}$"
SEGMENT_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
MAX_EVENTS_PER_REQUEST = 1000


class CustomerIn(CamelModel):
    id: str | None = PydanticField(None, pattern=CUSTOMER_ID_PATTERN)
    attributes: JsonObject = PydanticField(default_factory=dict)
    flags: JsonObject = PydanticField(default_factory=dict)


class CustomerUpdate(CamelModel):
    """Merged into the stored customer; a key set to null removes it."""

    attributes: JsonObject | None = None
    flags: JsonObject | None = None


class SegmentIn(CamelModel):
    # Either a rule or static: true (what `_rule_or_static` checks), stated for the OpenAPI document.
    model_config = {"json_schema_extra": {"anyOf": [
        {"required": ["static"], "properties": {"static": {"const": True}, "rule": {"type": "null"}}},
        {"required": ["rule"], "properties": {"rule": {"type": "string"}, "static": {"const": False}}},
    ]}}

    id: str | None = PydanticField(None, pattern=SEGMENT_ID_PATTERN)
    name: str = PydanticField(min_length=1, max_length=255)
    description: str = PydanticField("", max_length=2000)
    rule: CelExpression | None = None
    static: StrictBool = False

    @model_validator(mode="after")
    def _rule_or_static(self) -> SegmentIn:
        if self.static and self.rule:
            raise ValueError("a segment is either static or has a rule, not both")
        if not self.static and not self.rule:
            raise ValueError("give a rule (CEL over customer) or static: true")
        return self


class SegmentUpdate(CamelModel):
    # Optional to send, never null (a default the type refuses: an explicit null is a 422).
    name: str = PydanticField(None, min_length=1, max_length=255)
    description: str | None = PydanticField(None, max_length=2000)
    rule: CelExpression | None = None


class SegmentMembersChange(CamelModel):
    add: list[str] = PydanticField(default_factory=list, max_length=10_000)
    remove: list[str] = PydanticField(default_factory=list, max_length=10_000)


class EventIn(CamelModel):
    customer_id: str = PydanticField(min_length=1, max_length=128)
    type: str = PydanticField(min_length=1, max_length=120)
    properties: JsonObject = PydanticField(default_factory=dict)
    occurred_at: DateTime | None = None


class EventBatch(CamelModel):
    events: list[EventIn] = PydanticField(min_length=1, max_length=MAX_EVENTS_PER_REQUEST)
