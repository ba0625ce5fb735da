"""Shared bits for tables and wire schemas."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainValidator
from pydantic.alias_generators import to_camel
from sqlalchemy import JSON, Column
from sqlmodel import Field as SQLField
from typing_extensions import TypeAliasType


def json_field(default_factory: Any = dict, nullable: bool = False) -> Any:
    """A JSON column (JSON on SQLite, JSON on PostgreSQL)."""
    return SQLField(default_factory=default_factory, sa_column=Column(JSON, nullable=nullable))


class CamelModel(BaseModel):
    """Wire schemas: camelCase on the wire, snake_case in Python, unknown keys rejected, numbers finite
    (NaN and 1e400 parse as floats, but neither JSON answers nor PostgreSQL can hold them)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid",
                              allow_inf_nan=False)


# ---- free-form JSON (customer attributes and flags, event properties, update values) ---------------------

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


@dataclass
class JsonLimits:
    """How big one free-form value set may be: bytes of compact JSON, and nesting depth."""

    max_bytes: int = 65_536
    max_depth: int = 32


# Set from the settings when the API is mounted (`configure_json_limits`); the defaults match the settings'.
json_limits = JsonLimits()


def configure_json_limits(max_bytes: int, max_depth: int) -> None:
    json_limits.max_bytes = max_bytes
    json_limits.max_depth = max_depth


def json_problem(value: Any) -> str | None:
    """Why `value` cannot be stored as free-form JSON, or None: every integer fits 64-bit signed (what
    PostgreSQL, SQLite and the JSON encoder hold), every float is finite, nesting and size stay in bounds."""
    limits = json_limits
    pending: list[tuple[Any, int, str]] = [(value, 0, "")]
    while pending:
        item, depth, path = pending.pop()
        where = f" at {path}" if path else ""
        if isinstance(item, bool) or item is None or isinstance(item, str):
            continue
        if isinstance(item, int):
            if not INT64_MIN <= item <= INT64_MAX:
                return f"integer{where} does not fit in 64 bits (between -2^63 and 2^63-1)"
        elif isinstance(item, float):
            if item != item or item in (float("inf"), float("-inf")):
                return f"number{where} must be finite"
        elif isinstance(item, dict | list):
            if depth >= limits.max_depth:
                return f"value{where} is nested deeper than {limits.max_depth} levels"
            children = item.items() if isinstance(item, dict) else enumerate(item)
            pending.extend((child, depth + 1, f"{path}.{key}" if path else str(key))
                           for key, child in children)
        else:
            return f"value{where} is not JSON"
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    if size > limits.max_bytes:
        return f"value is {size} bytes of JSON, more than the limit of {limits.max_bytes}"
    return None


def _checked_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("Input should be an object")
    problem = json_problem(value)
    if problem:
        raise ValueError(problem)
    return value


Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
# A JSON number may be written without a fraction; bounded like the integers so it never reads as a huge one.
Number = Annotated[float, Field(ge=INT64_MIN, le=INT64_MAX)]
# What the OpenAPI document says a free-form value holds (nesting and size are checked, not described).
JsonItem = TypeAliasType(
    "JsonItem", "bool | Int64 | Number | str | list[JsonItem] | dict[str, JsonItem] | None"
)
# A free-form JSON object as API bodies accept it: checked by `json_problem` alone, kept as sent.
JsonObject = Annotated[
    dict[str, Any], PlainValidator(_checked_object, json_schema_input_type=dict[str, JsonItem])
]


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
