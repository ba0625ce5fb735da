"""The condition builder's rows (attribute, operator, value) and the CEL they stand for, both ways."""

from __future__ import annotations

import re
from dataclasses import dataclass

OPERATORS = {"==": "=", "!=": "≠", ">": ">", ">=": "≥", "<": "<", "<=": "≤", "contains": "contains"}
ATTRIBUTE_HINTS = [
    "outcome",
    "customer.country",
    "customer.age",
    "customer.tier",
    "customer.segments",
    "event.type",
]
_COMPARE = re.compile(r"^([A-Za-z_][\w.]*)\s*(==|!=|>=|<=|>|<)\s*(.+)$")
_CONTAINS = re.compile(r"^([A-Za-z_][\w.]*)\.contains\((.+)\)$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


@dataclass
class Row:
    attribute: str = "customer."
    operator: str = "=="
    value: str = ""


def literal(value: str) -> str:
    """A typed value as a CEL literal: numbers and true/false as they are, anything else quoted."""
    text = value.strip()
    if _NUMBER.match(text) or text in ("true", "false", "null"):
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def to_cel(rows: list[Row]) -> str:
    """Rows joined with && (a row without an attribute is left out)."""
    parts = []
    for row in rows:
        attribute = row.attribute.strip().rstrip(".")
        if not attribute:
            continue
        if row.operator == "contains":
            parts.append(f"{attribute}.contains({literal(row.value)})")
        else:
            parts.append(f"{attribute} {row.operator} {literal(row.value)}")
    return " && ".join(parts)


def from_cel(expression: str) -> list[Row] | None:
    """The rows an expression was built from, or None when it is hand-written CEL the builder cannot show."""
    if not expression.strip():
        return []
    rows = []
    for part in expression.split("&&"):
        part = part.strip()
        match = _CONTAINS.match(part)
        if match:
            value = _unliteral(match.group(2))
            if value is None:
                return None
            rows.append(Row(match.group(1), "contains", value))
            continue
        match = _COMPARE.match(part)
        value = _unliteral(match.group(3)) if match else None
        if match is None or value is None:
            return None
        rows.append(Row(match.group(1), match.group(2), value))
    return rows if to_cel(rows) == expression.strip() else None


def _unliteral(text: str) -> str | None:
    text = text.strip()
    if _NUMBER.match(text) or text in ("true", "false", "null"):
        return text
    if len(text) >= 2 and text[0] == text[-1] == "'":
        inner = text[1:-1]
        if re.search(r"(?<!\\)'", inner):
            return None
        return inner.replace("\\'", "'").replace("\\\\", "\\")
    return None
