"""Customers, segments with their materialised membership and its change log, and events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from models.common import json_field


class Customer(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=128)
    attributes: dict[str, Any] = json_field(dict)
    flags: dict[str, Any] = json_field(dict)
    created_at: datetime
    updated_at: datetime


class Segment(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=255)
    description: str = ""
    # A CEL condition over `customer`; None for a static segment (explicit add/remove).
    rule: str | None = None
    static: bool = False
    created_at: datetime
    updated_at: datetime


class SegmentMember(SQLModel, table=True):
    segment_id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(primary_key=True, max_length=128, index=True)
    joined_at: datetime


class SegmentChange(SQLModel, table=True):
    """Joined/left log, read by the runtime to enroll customers who join an entry segment."""

    __table_args__ = (Index("ix_segmentchange_segment_at", "segment_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    segment_id: str = Field(max_length=64)
    customer_id: str = Field(max_length=128)
    joined: bool
    at: datetime


class Event(SQLModel, table=True):
    __table_args__ = (Index("ix_event_customer_type", "customer_id", "type"),)

    id: str = Field(primary_key=True, max_length=64)
    customer_id: str = Field(max_length=128)
    type: str = Field(max_length=120, index=True)
    properties: dict[str, Any] = json_field(dict)
    occurred_at: datetime
    received_at: datetime
