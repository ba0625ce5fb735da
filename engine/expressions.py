"""CEL: the one place conditions are compiled and evaluated. Sandboxed and always terminating."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import cel


class ExpressionError(Exception):
    """A CEL expression that does not compile, or fails at run time (missing field, type error)."""


@lru_cache(maxsize=4096)
def _compile(expression: str) -> tuple[Any, frozenset[str]]:
    program = cel.compile(expression)
    return program, frozenset(program.variables())


def syntax_error(expression: str) -> str | None:
    """The reason `expression` does not compile, or None when it does."""
    if not expression or not expression.strip():
        return "expression is empty"
    try:
        _compile(expression)
    except Exception as error:  # the library raises ValueError, but be safe with any parse failure
        return _one_line(str(error))
    return None


def names(expression: str) -> frozenset[str]:
    """The variables an expression reads (empty when it does not compile)."""
    try:
        return _compile(expression)[1]
    except Exception:
        return frozenset()


def evaluate(expression: str, variables: dict[str, Any]) -> Any:
    """Evaluate with the given variables; raises ExpressionError on any compile or runtime failure."""
    try:
        program, names = _compile(expression)
    except Exception as error:
        raise ExpressionError(_one_line(str(error))) from error
    # Converting values into CEL is most of the cost: hand over only the variables the expression reads.
    used = {name: value for name, value in variables.items() if name in names}
    try:
        return program.execute(used)
    except KeyError as error:
        raise ExpressionError(f"no such field: {error.args[0] if error.args else error}") from error
    except Exception as error:
        raise ExpressionError(_one_line(str(error)) or type(error).__name__) from error


def is_true(expression: str, variables: dict[str, Any]) -> tuple[bool, str | None]:
    """A condition's truth; a failure or a non-boolean result is false, with the reason."""
    try:
        value = evaluate(expression, variables)
    except ExpressionError as error:
        return False, str(error)
    if not isinstance(value, bool):
        return False, f"expected true/false, got {type(value).__name__}"
    return value, None


def _one_line(message: str) -> str:
    lines = [line for line in message.splitlines() if line.strip()]
    return lines[0][:500] if lines else message
