"""Customer attribute values as people read them: text plain, numbers and yes/no formatted, lists and objects
compact on one line, with the kind of each value (no quoted JSON)."""

from __future__ import annotations

import json
import re
from typing import Any

# Attributes shown on their own (list columns, page title) rather than among the other attributes.
NAME_KEYS = ("name", "firstName", "lastName")
EMAIL_KEY = "email"
# An ISO 8601 timestamp (as the engine writes them): shown as "YYYY-MM-DD HH:MM:SS", UTC, like every table.
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]00:?00)?$")


def display_value(value: Any) -> str:
    """One attribute value on one line."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".") or "0"
    if isinstance(value, str):
        return value[:19].replace("T", " ") if _ISO_MOMENT.match(value) else value
    if isinstance(value, list):
        return ", ".join(_inner(item) for item in value) if value else "(empty list)"
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_inner(item)}" for key, item in value.items()) if value else "(empty)"
    return str(value)


def kind_of(value: Any) -> str:
    """What kind of value it is, in words: text, number, yes/no, list, object or empty."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "yes/no"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    return "list" if isinstance(value, list) else "object"


def chips(attributes: dict[str, Any], *, skip: tuple[str, ...] = (), most: int = 6) -> list[str]:
    """'key: value' labels for the first `most` attributes (sorted by key, `skip` left out), and '+N more'."""
    keys = sorted(key for key in attributes if key not in skip)
    labels = [f"{key}: {_short(display_value(attributes[key]))}" for key in keys[:most]]
    return labels + ([f"+{len(keys) - most} more"] if len(keys) > most else [])


def _inner(value: Any) -> str:
    """A value inside a list or object: nested lists and objects as compact JSON."""
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return display_value(value)


def _short(text: str, most: int = 40) -> str:
    return text if len(text) <= most else text[:most - 1] + "…"
