"""The condition builder's rows (attribute, operator, value) and the CEL they stand for, both ways.

An attribute's type (engine.audience.attributes: string, number, bool, list, date, map) decides which
operators are offered and how a typed value is written: a number attribute compares with a number literal,
a string or date attribute always with a quoted string (so "30" stays '30'), a list is tested with `in`.
An attribute whose type is not known gets every operator, and values that look like numbers or true/false
are written bare.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

COMPARE = {"==": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥"}
DATE_COMPARE = {"==": "on", "!=": "not on", "<": "before", "<=": "on or before", ">": "after",
                ">=": "on or after"}
TEXT = {"==": "=", "!=": "≠", "contains": "contains", "startsWith": "starts with", "in": "is one of"}
TRUTH = {"true": "is true", "false": "is false"}
MEMBER = {"has": "contains"}
# Operators offered per attribute type; a type not listed (unknown, free-typed attribute) gets them all.
OPERATORS: dict[str, dict[str, str]] = {
    "number": COMPARE,
    "date": DATE_COMPARE,
    "string": TEXT,
    "bool": TRUTH,
    "list": MEMBER,
    "map": {"==": "=", "!=": "≠"},
}
ANY = {**COMPARE, "contains": "contains text", "startsWith": "starts with", "in": "is one of",
       "has": "list contains", **TRUTH}
NO_VALUE = frozenset(TRUTH)

_PATH = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
_COMPARE = re.compile(rf"^({_PATH})\s*(==|!=|>=|<=|>|<)\s*(.+)$")
_CALL = re.compile(rf"^({_PATH})\.(contains|startsWith)\((.+)\)$")
_MEMBER = re.compile(rf"^(.+?)\s+in\s+({_PATH})$")
_ONE_OF = re.compile(rf"^({_PATH})\s+in\s+\[(.*)\]$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


@dataclass
class Row:
    attribute: str = ""
    operator: str = "=="
    value: str = ""


def operators_for(kind: str | None) -> dict[str, str]:
    """Operator → label offered for an attribute of this type (None: unknown type, all of them)."""
    return OPERATORS.get(kind or "", ANY)


def quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def literal(value: str, kind: str | None = None) -> str:
    """A typed value as a CEL literal of the attribute's type (unknown type: numbers and true/false bare)."""
    text = value.strip()
    if kind in ("string", "date"):
        return quote(text)
    if _NUMBER.match(text) or (kind != "number" and text in ("true", "false", "null")):
        return text
    return quote(text)


def value_problem(value: str, kind: str | None, operator: str) -> str | None:
    """Why a typed value cannot be a value of this attribute (shown under the field), or None."""
    if operator in NO_VALUE or kind != "number":
        return None
    items = value.split(",") if operator == "in" else [value]
    return None if all(_NUMBER.match(item.strip()) for item in items) else "Enter a number"


def row_cel(row: Row, kind: str | None = None) -> str:
    attribute = row.attribute.strip().rstrip(".")
    match row.operator:
        case "contains" | "startsWith":
            return f"{attribute}.{row.operator}({quote(row.value.strip())})"
        case "has":
            return f"{literal(row.value)} in {attribute}"
        case "in":
            items = [item for item in (part.strip() for part in row.value.split(",")) if item]
            return f"{attribute} in [{', '.join(literal(item, kind) for item in items)}]"
        case "true" | "false":
            return f"{attribute} == {row.operator}"
    return f"{attribute} {row.operator} {literal(row.value, kind)}"


def to_cel(rows: list[Row], kinds: Mapping[str, str] | None = None) -> str:
    """Rows joined with && (a row without an attribute is left out)."""
    kinds = kinds or {}
    return " && ".join(
        row_cel(row, kinds.get(row.attribute.strip())) for row in rows if row.attribute.strip().rstrip(".")
    )


def from_cel(expression: str, kinds: Mapping[str, str] | None = None) -> list[Row] | None:
    """The rows an expression was built from, or None when it is hand-written CEL the builder cannot show
    as rows without changing what it means (the raw field keeps it)."""
    if not expression.strip():
        return []
    parts = _conjuncts(expression)
    if parts is None:
        return None
    rows = []
    for part in parts:
        row = _row(part)
        if row is None:
            return None
        rows.append(row)
    same = _squash(to_cel(rows, kinds)) == _squash(expression)
    return rows if same else None


def _row(part: str) -> Row | None:
    match = _CALL.match(part)
    if match:
        value = _unliteral(match.group(3))
        return None if value is None else Row(match.group(1), match.group(2), value)
    match = _ONE_OF.match(part)
    if match:
        items = _items(match.group(2))
        return None if items is None else Row(match.group(1), "in", ", ".join(items))
    match = _MEMBER.match(part)
    if match and not match.group(1).rstrip().endswith("]"):
        value = _unliteral(match.group(1))
        return None if value is None else Row(match.group(2), "has", value)
    match = _COMPARE.match(part)
    if match is None:
        return None
    value = _unliteral(match.group(3))
    if value is None:
        return None
    if match.group(2) == "==" and match.group(3).strip() in TRUTH:
        return Row(match.group(1), match.group(3).strip(), "")
    return Row(match.group(1), match.group(2), value)


def _outside_quotes(text: str) -> Iterator[tuple[int, str]]:
    """(index, character) of every character of `text` that is not inside a string literal."""
    quote_char, escaped = "", False
    for index, char in enumerate(text):
        if quote_char:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote_char:
                quote_char = ""
        elif char in "'\"":
            quote_char = char
        else:
            yield index, char


def _conjuncts(expression: str) -> list[str] | None:
    """The expression split at its top-level `&&` (None when it has a top-level `||`: not rows)."""
    text = expression.strip()
    cuts, depth = [], 0
    for index, char in _outside_quotes(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0 and text.startswith("||", index):
            return None
        elif depth == 0 and text.startswith("&&", index) and not (cuts and cuts[-1] == index - 1):
            cuts.append(index)
    bounds = [0, *[i for cut in cuts for i in (cut, cut + 2)], len(text)]
    return [text[bounds[i]:bounds[i + 1]].strip() for i in range(0, len(bounds), 2)]


def _items(text: str) -> list[str] | None:
    """The literals of a list's inside (None when one is not a plain literal)."""
    commas = [index for index, char in _outside_quotes(text) if char == ","]
    bounds = [-1, *commas, len(text)]
    items = []
    for part in (text[bounds[i] + 1:bounds[i + 1]] for i in range(len(bounds) - 1)):
        value = _unliteral(part)
        if value is None or "," in value:
            return None
        items.append(value)
    return items


def _squash(text: str) -> str:
    """The expression without whitespace outside string literals (how it is spaced does not matter)."""
    text = text.strip()
    spaces = {index for index, char in _outside_quotes(text) if char.isspace()}
    return "".join(char for index, char in enumerate(text) if index not in spaces)


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
