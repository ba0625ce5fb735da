"""Offers and decision flows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from models.common import json_field


class Offer(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=255)
    description: str = ""
    category: str = Field(default="", index=True, max_length=120)
    status: str = Field(default="active", max_length=16)
    eligibility: str | None = None
    # A number in 0..1, or a CEL expression (string) yielding one.
    propensity: Any = json_field(lambda: 0.5, nullable=True)
    business_value: float = 1.0
    priority: float = 1.0
    start_date: datetime | None = None
    end_date: datetime | None = None
    # {"<channel type>": {"subject": "...", "body": "..."}}
    creatives: dict[str, Any] = json_field(dict)
    created_at: datetime
    updated_at: datetime


class DecisionFlow(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=255)
    description: str = ""
    offer_ids: list[str] = json_field(list)
    categories: list[str] = json_field(list)
    rules: list[Any] = json_field(list)
    # {"maxPerOffer", "windowDays", "maxPerDay"}
    contact_policy: dict[str, Any] = json_field(dict)
    # {"propensity", "relevance", "impact", "emphasis"}
    weights: dict[str, Any] = json_field(dict)
    max_offers: int = 1
    created_at: datetime
    updated_at: datetime
