"""Shared bits for tables and wire schemas."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator, TypeAdapter
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError
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

# PostgreSQL cannot store it in text or jsonb (SQLite can): refused everywhere, so both databases agree.
NUL = "\x00"
# Query text may hold anything but NUL (no stored text holds it, and PostgreSQL refuses it).
NO_NUL = r"^[^\x00]*$"
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# The exclusive upper bound, as schemas state it: FastAPI keeps OpenAPI bounds as floats, where INT64_MAX
# rounds up to 2^63 (and would admit it), while 2^63 itself is exact.
INT64_END = 2**63


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
    """Why `value` cannot be stored as free-form JSON, or None: every number is finite and in the 64-bit
    signed range (integers past it do not fit PostgreSQL, SQLite or the JSON encoder; floats share the bound,
    as `JsonItem` states, since JSON cannot tell 1e19 from 10000000000000000000), no string or key holds NUL,
    nesting and size bounded."""
    limits = json_limits
    pending: list[tuple[Any, int, str]] = [(value, 0, "")]
    while pending:
        item, depth, path = pending.pop()
        where = f" at {path}" if path else ""
        if isinstance(item, str):
            if NUL in item:
                return f"text{where} may not contain the NUL character"
            continue
        if isinstance(item, bool) or item is None:
            continue
        if isinstance(item, int | float):
            if item != item or item in (float("inf"), float("-inf")):
                return f"number{where} must be finite"
            if not INT64_MIN <= item < INT64_END:
                return f"number{where} does not fit in 64 bits (between -2^63 and 2^63-1)"
        elif isinstance(item, dict | list):
            if depth >= limits.max_depth:
                return f"value{where} is nested deeper than {limits.max_depth} levels"
            if isinstance(item, dict) and any(NUL in str(key) for key in item):
                return f"a key{where} may not contain the NUL character"
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


Int64 = Annotated[int, Field(ge=INT64_MIN, lt=INT64_END)]
# A JSON number may be written without a fraction; bounded like the integers so it never reads as a huge one.
Number = Annotated[float, Field(ge=INT64_MIN, lt=INT64_END)]
# What the OpenAPI document says a free-form value holds (nesting and size are checked, not described).
JsonItem = TypeAliasType(
    "JsonItem", "bool | Int64 | Number | str | list[JsonItem] | dict[str, JsonItem] | None"
)
# A free-form JSON object as API bodies accept it: checked by `json_problem` alone, kept as sent.
JsonObject = Annotated[
    dict[str, Any], PlainValidator(_checked_object, json_schema_input_type=dict[str, JsonItem])
]


# ---- wire types whose schema states what validation checks ---------------------------------------------

# A CEL expression as the API checks it on input (engine.expressions.check): not blank, bounded in size.
CelExpression = Annotated[str, Field(min_length=1, max_length=4000, pattern=r"\S")]


def _whole_number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


# For `Annotated[int, Field(ge=..., le=...), WholeNumber]`: an integer as JSON Schema means one, any whole
# number (2.0 too), never true or "2" as lax ints also read. After the bounds, or the schema loses them.
WholeNumber = BeforeValidator(_whole_number)


def _date_time_text(value: Any) -> Any:
    # Lax datetimes read numbers as Unix times; the schema (format date-time) promises ISO 8601 text.
    if isinstance(value, str | datetime):
        return value
    raise ValueError("Input should be an ISO 8601 date-time string")


DateTime = Annotated[datetime, BeforeValidator(_date_time_text)]


def text_or(text: Any, other: Any) -> PlainValidator:
    """Validates a string as `text` and anything else as `other`, the schema showing both: a union whose
    errors name the field itself (pydantic's own unions add the member's name to the error location)."""
    text_adapter, other_adapter = TypeAdapter(text), TypeAdapter(other)

    def validate(value: Any) -> Any:
        return (text_adapter if isinstance(value, str) else other_adapter).validate_python(value)

    return PlainValidator(validate, json_schema_input_type=text | other)


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
