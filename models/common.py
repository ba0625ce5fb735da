"""Shared bits for tables and wire schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from sqlalchemy import JSON, Column
from sqlmodel import Field as SQLField


def json_field(default_factory: Any = dict, nullable: bool = False) -> Any:
    """A JSON column (JSON on SQLite, JSON on PostgreSQL)."""
    return SQLField(default_factory=default_factory, sa_column=Column(JSON, nullable=nullable))


class CamelModel(BaseModel):
    """Wire schemas: camelCase on the wire, snake_case in Python, unknown keys rejected."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class Pagination(CamelModel):
    """The `pagination` part of every collection's envelope (OpenAPI)."""

    total: int
    limit: int
    offset: int
    has_more: bool


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = Field(default_factory=dict)


class ErrorEnvelope(BaseModel):
    error: ErrorBody


def iso(moment: datetime | None) -> str | None:
    """Naive-UTC datetimes as ISO 8601 with a Z."""
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds") + "Z"
