"""CEL: the one place conditions are compiled, checked and evaluated. Sandboxed and always terminating.

Converting Python values into CEL costs far more than evaluating (tens of µs for a customer map against
under 1 µs for a comparison), so callers that evaluate many expressions over the same values build one
`Scope` and pass it instead of a dict; `fields` and `project` trim a value to what the expressions read,
and `bind` fixes one variable to a small map inside the program itself, so a per-offer value needs no
conversion at all.

Budget: an expression's work is estimated from its comprehensions (`map`, `filter`, `all`, `exists`,
`exists_one`): each multiplies its body by the size of the list it runs over — the literal's length, or
for a list from the inputs the most elements a free-form JSON value may hold (settings.json_max_bytes / 2).
`check` refuses an expression whose worst case is over settings.cel_cost_limit; at run time one whose
worst case is over the limit (stored before the limit) is estimated again with the real input sizes and
refused (ExpressionError) instead of run when those are over it too.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import cel

from engine.engine import Engine
from engine.settings import Settings

# Expressions estimated at or under this many steps (whatever their inputs) skip the run-time budget check.
CHEAP = 1_000
# The macros that loop over a list or map.
COMPREHENSIONS = frozenset({"map", "filter", "all", "exists", "exists_one"})


class ExpressionError(Exception):
    """A CEL expression that does not compile, fails at run time (missing field, type error), or would
    cost more than the budget."""


class Scope:
    """Variables converted into CEL once, shared by every evaluation against it (read-only afterwards)."""

    __slots__ = ("_context", "variables")

    def __init__(self, variables: Mapping[str, Any]) -> None:
        self.variables = dict(variables)
        self._context: Any = None

    @property
    def context(self) -> Any:
        if self._context is None:
            self._context = cel.Context(self.variables)
        return self._context


# ---- compiling and checking --------------------------------------------------------------------------

@lru_cache(maxsize=16384)
def _compile(expression: str) -> tuple[Any, frozenset[str]]:
    program = cel.compile(expression)
    return program, frozenset(program.variables())


@dataclass(frozen=True)
class Limits:
    """The cost limit and the most elements an input list may bring (what the cost polynomial is read at)."""

    cost: int
    most_elements: int

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(settings.cel_cost_limit, max(settings.json_max_bytes // 2, 1))


def check(expression: str, limits: Limits) -> str | None:
    """Why `expression` is refused (empty, does not compile, or over the cost limit), or None."""
    if not expression or not expression.strip():
        return "expression is empty"
    try:
        _compile(expression)
    except Exception as error:  # the library raises ValueError, but be safe with any parse failure
        return _one_line(str(error))
    limit, most = limits.cost, limits.most_elements
    cost = _shape(expression).cost(most)
    if cost > limit:
        return (f"too costly: up to {cost:,} steps (limit {limit:,}); nested comprehensions multiply "
                f"by the size of the lists they run over")
    return None


# The name the definition validators import: a refused expression is an error whatever the reason.
syntax_error = check


def names(expression: str) -> frozenset[str]:
    """The variables an expression reads (empty when it does not compile)."""
    try:
        return _compile(expression)[1]
    except Exception:
        return frozenset()


def fields(expression: str, name: str) -> frozenset[str] | None:
    """The fields `expression` reads of the map variable `name`, when it only ever reads `name.field`;
    None when it uses the map some other way (indexing, size, passing it whole)."""
    shape = _shape(expression)
    return None if name in shape.whole else shape.fields.get(name, frozenset())


def project(value: dict[str, Any], wanted: frozenset[str] | None) -> dict[str, Any]:
    """`value` trimmed to the `wanted` keys (all of it for None): a missing field stays missing."""
    if wanted is None:
        return value
    return {key: value[key] for key in wanted if key in value}


def bind(expression: str, name: str, value: Mapping[str, Any]) -> str | None:
    """CEL source equal to `expression` with the variable `name` fixed to `value` (a map of strings,
    numbers, booleans, timestamps and null, written into the program as a literal), or None when a value
    has no literal form. Only the fields the expression reads are written."""
    wanted = fields(expression, name)
    # The type is part of the cache key: 1, 1.0 and True are equal keys but different CEL literals.
    items = tuple((key, type(item), item) for key, item in sorted(project(dict(value), wanted).items()))
    try:
        return _bound(expression, name, items)
    except TypeError:  # an unhashable value (a list or map) has no literal form anyway
        return None


@lru_cache(maxsize=16384)
def _bound(expression: str, name: str, items: tuple[tuple[str, type, Any], ...]) -> str | None:
    parts: list[str] = []
    for key, _type, item in items:
        literal = _literal(item)
        if literal is None:
            return None
        parts.append(f"{json.dumps(key, ensure_ascii=False)}: {literal}")
    # A one-element comprehension binds the name without touching the caller's variables.
    return f"[{{{', '.join(parts)}}}].map({name}, ({expression}))[0]"


# ---- evaluating --------------------------------------------------------------------------------------

def evaluate(engine: Engine, expression: str, variables: Mapping[str, Any] | Scope) -> Any:
    """Evaluate with the given variables (or a prepared Scope); raises ExpressionError on any compile or
    runtime failure, or when the inputs would take the expression over the cost limit."""
    try:
        compiled, used = _compile(expression)
    except Exception as error:
        raise ExpressionError(_one_line(str(error))) from error
    shape = _shape(expression)
    values = variables.variables if isinstance(variables, Scope) else variables
    if shape.may_be_costly:
        _within_budget(engine, shape, values, used)
    if isinstance(variables, Scope):
        context: Any = variables.context
    else:
        # Converting values into CEL is most of the cost: hand over only the variables the expression reads.
        context = {name: value for name, value in variables.items() if name in used}
    return _execute(compiled, context)


def program(expression: str) -> Callable[[Any], Any] | None:
    """The compiled program's own `execute`, to call with a Scope's `context` (its errors are the library's:
    `failure` turns one into the ExpressionError `evaluate` would raise); None when the expression does
    not compile or its cost depends on the inputs (call `evaluate` for those). For the hottest loop,
    decisions, where even one wrapper call per evaluation costs as much as the evaluation."""
    try:
        compiled, _used = _compile(expression)
    except Exception:
        return None
    return None if _shape(expression).may_be_costly else compiled.execute


def _execute(compiled: Any, context: Any) -> Any:
    try:
        return compiled.execute(context)
    except Exception as error:
        raise failure(error) from error


def failure(error: Exception) -> ExpressionError:
    """The ExpressionError for an error the CEL library raised while running a program."""
    if isinstance(error, KeyError):
        return ExpressionError(f"no such field: {error.args[0] if error.args else error}")
    return ExpressionError(_one_line(str(error)) or type(error).__name__)


def is_true(engine: Engine, expression: str, variables: Mapping[str, Any] | Scope) -> tuple[bool, str | None]:
    """A condition's truth; a failure or a non-boolean result is false, with the reason."""
    try:
        value = evaluate(engine, expression, variables)
    except ExpressionError as error:
        return False, str(error)
    if not isinstance(value, bool):
        return False, f"expected true/false, got {type(value).__name__}"
    return value, None


def _within_budget(engine: Engine, shape: _Shape, values: Mapping[str, Any], used: frozenset[str]) -> None:
    limits = Limits.of(engine.settings)
    limit, most = limits.cost, limits.most_elements
    if shape.cost(most) <= limit:
        return
    largest = max((_largest_collection(values[name]) for name in used if name in values), default=0)
    cost = shape.cost(largest)
    if cost > limit:
        raise ExpressionError(f"too costly for these inputs: {cost:,} steps (limit {limit:,})")


def _largest_collection(value: Any) -> int:
    """The most elements of any list or map inside `value` (what a comprehension over an input runs on)."""
    largest, pending = 0, [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            largest = max(largest, len(item))
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            largest = max(largest, len(item))
            pending.extend(item)
    return largest


# What a definition is checked against where no engine's settings say otherwise.
DEFAULT_LIMITS = Limits.of(Settings.model_construct())


# ---- static analysis: the cost polynomial and the fields read -----------------------------------------

_TOKEN = re.compile(r"""
    (?P<space>\s+|//[^\n]*)
  | (?P<string>(?:[bB]?[rR]|[rR][bB])(?:'''.*?'''|\"\"\".*?\"\"\"|'[^'\n]*'|"[^"\n]*")
      | [bB]?(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"|'(?:\\.|[^\\'\n])*'|"(?:\\.|[^\\"\n])*"))
  | (?P<number>0[xX][0-9a-fA-F]+[uU]?|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?[uU]?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>&&|\|\||==|!=|<=|>=|.)
""", re.VERBOSE | re.DOTALL)
_OPEN = {"(": ")", "[": "]", "{": "}"}
# After these a `[` starts a list literal rather than indexing what precedes it.
_VALUE_END = {")", "]", "}"}


@dataclass(frozen=True)
class _Shape:
    """What the analysis keeps of an expression: its cost as a polynomial in the input list size
    (coefficient by degree), and the fields it reads of each variable."""

    polynomial: tuple[int, ...]
    fields: dict[str, frozenset[str]]
    whole: frozenset[str]

    @property
    def may_be_costly(self) -> bool:
        """Worth checking against the limit at run time: it loops over inputs, or over large literals
        (a limit under CHEAP steps is not a meaningful setting, so cheaper expressions skip the check)."""
        return len(self.polynomial) > 1 or self.polynomial[0] > CHEAP

    def cost(self, size: int) -> int:
        return sum(coefficient * size ** degree for degree, coefficient in enumerate(self.polynomial))


@lru_cache(maxsize=16384)
def _shape(expression: str) -> _Shape:
    tokens = [(match.lastgroup, match.group()) for match in _TOKEN.finditer(expression)
              if match.lastgroup != "space"]
    kinds = [kind for kind, _text in tokens]
    texts = [text if kind in ("op", "ident") else "" for kind, text in tokens]
    closing = _pairs(texts)
    polynomial = _cost(texts, kinds, closing, 0, len(texts), frozenset())
    read: dict[str, set[str]] = {}
    whole: set[str] = set()
    for index, text in enumerate(texts):
        if kinds[index] != "ident" or (index and texts[index - 1] == "."):
            continue
        if index + 2 < len(texts) and texts[index + 1] == "." and kinds[index + 2] == "ident":
            read.setdefault(text, set()).add(texts[index + 2])
        else:
            whole.add(text)
    return _Shape(tuple(polynomial), {name: frozenset(found) for name, found in read.items()},
                  frozenset(whole))


def _pairs(texts: list[str]) -> dict[int, int]:
    """Index of each opening bracket → index of its closing one (unbalanced text: to the end)."""
    closing: dict[int, int] = {}
    stack: list[int] = []
    for index, text in enumerate(texts):
        if text in _OPEN:
            stack.append(index)
        elif text in (")", "]", "}") and stack:
            closing[stack.pop()] = index
    for index in stack:
        closing[index] = len(texts)
    return closing


def _cost(texts: list[str], kinds: list[str | None], closing: dict[int, int], start: int, end: int,
          loop_names: frozenset[str]) -> list[int]:
    """Cost polynomial of tokens [start, end): one step a token; a comprehension's body times its range."""
    total = [0]
    index = start
    while index < end:
        is_macro = (texts[index] in COMPREHENSIONS and index >= 2 and texts[index - 1] == "."
                    and index + 1 < end and texts[index + 1] == "(")
        if not is_macro:
            total[0] += 1
            index += 1
            continue
        close = closing.get(index + 1, end)
        variable = texts[index + 2] if index + 2 < close else ""
        body = _cost(texts, kinds, closing, index + 2, close, loop_names | {variable})
        degree = _range_size(texts, kinds, closing, index - 2, loop_names)
        body = [0] * degree[1] + [coefficient * degree[0] for coefficient in body]
        total = [a + b for a, b in zip(_padded(total, len(body)), _padded(body, len(total)), strict=True)]
        total[0] += 2
        index = close + 1
    return total


def _range_size(texts: list[str], kinds: list[str | None], closing: dict[int, int], last: int,
                loop_names: frozenset[str]) -> tuple[int, int]:
    """(factor, degree) of the list a comprehension runs over, whose last token is at `last`: a literal's
    length (degree 0), an enclosing loop variable's part (1: the loops share the elements), or an input
    list (degree 1: up to the input size)."""
    opening = {close: open_ for open_, close in closing.items()}
    if texts[last] in ("]", "}") and last in opening:
        first = opening[last]
        before = texts[first - 1] if first else "("
        if before not in _VALUE_END and (first == 0 or kinds[first - 1] not in ("ident", "string", "number")):
            return _literal_length(texts, closing, first, last), 0
    identifiers: set[str] = set()
    index = last
    while index >= 0:
        if texts[index] in _VALUE_END and index in opening:
            index = opening[index] - 1
        elif kinds[index] == "ident":
            identifiers.add(texts[index])
            index -= 1
        elif texts[index] == ".":
            index -= 1
        else:
            break
    if identifiers & loop_names:
        return 1, 0
    return 1, 1


def _literal_length(texts: list[str], closing: dict[int, int], first: int, last: int) -> int:
    """Elements of the list or map literal between brackets `first` and `last` (top-level commas)."""
    count, index, items = 0, first + 1, False
    while index < last:
        if texts[index] in _OPEN:
            items = True
            index = closing.get(index, last) + 1
            continue
        if texts[index] == ",":
            count += 1
        else:
            items = True
        index += 1
    trailing = last > first + 1 and texts[last - 1] == ","
    return count + (1 if items and not trailing else 0)


def _padded(values: list[int], length: int) -> list[int]:
    return values + [0] * (length - len(values))


def _literal(value: Any) -> str | None:
    """CEL literal source for one plain value, or None."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if -(2 ** 63) <= value < 2 ** 63 else None
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime):
        moment = value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
        return f"timestamp({json.dumps(moment.isoformat() + 'Z')})"
    return None


def _one_line(message: str) -> str:
    lines = [line for line in message.splitlines() if line.strip()]
    return lines[0][:500] if lines else message

