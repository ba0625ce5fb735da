"""Message templates: Jinja2 in a sandbox, so a template can read its variables and nothing else.

Templates see `customer` (attributes plus `id`, `segments`, `flags`), `offer`, `journey`, `event` and
the journey's `context` (each `storeResultAs` result also bound at top level by its name). A missing
variable (or a field of one) renders as an empty string; reaching for Python internals is refused by
the sandbox.
"""

from __future__ import annotations

import operator
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, Template
from jinja2 import TemplateError as JinjaTemplateError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

# Bounds that keep one template from eating the dispatcher's memory (`'x' * 10**12`, `9 ** 9 ** 9`).
MAX_SEQUENCE = 100_000
MAX_EXPONENT = 100
MAX_POWER_BITS = 10_000


class TemplateError(Exception):
    """A template that does not parse, or fails while rendering; the message says why."""


class _Sandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        # Fail loudly: the default (an undefined that renders as "") would hide the attempt.
        raise SecurityError(f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe")

    def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
        if op == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"exponent larger than {MAX_EXPONENT}")
            if isinstance(left, int) and isinstance(right, int) \
                    and left.bit_length() * right > MAX_POWER_BITS:
                raise SecurityError(f"result larger than {MAX_POWER_BITS} bits")
            return operator.pow(left, right)
        for sequence, count in ((left, right), (right, left)):
            if (isinstance(sequence, str | list | tuple) and isinstance(count, int)
                    and len(sequence) * count > MAX_SEQUENCE):
                raise SecurityError(f"result longer than {MAX_SEQUENCE}")
        return operator.mul(left, right)


_environment = _Sandbox(autoescape=False, keep_trailing_newline=True, undefined=ChainableUndefined)


@lru_cache(maxsize=1024)
def _compile(source: str) -> Template:
    return _environment.from_string(source)


def check(source: str) -> str | None:
    """Why `source` does not parse, or None when it does."""
    try:
        _compile(source)
    except JinjaTemplateError as error:
        return _describe(error)
    return None


def render(source: str, variables: dict[str, Any]) -> str:
    """Render `source` with `variables`; any failure (syntax, sandbox, runtime) raises TemplateError."""
    try:
        return _compile(source).render(variables)
    except JinjaTemplateError as error:
        raise TemplateError(_describe(error)) from error
    except Exception as error:  # e.g. ZeroDivisionError, TypeError inside an expression
        raise TemplateError(f"{type(error).__name__}: {error}") from error


def variables(customer: dict[str, Any], offer: dict[str, Any] | None, context: dict[str, Any],
              journey: dict[str, Any]) -> dict[str, Any]:
    """The names a template sees. `context` is what the send step saw (`context`: the journey's
    storeResultAs results, each also bound at top level by its name; `event`; `journey`); the customer
    and offer as they are at send time, and the delivery's journey ids, win over same-named entries."""
    results = context.get("context")
    results = results if isinstance(results, dict) else {}
    seen_journey = context.get("journey")
    seen_journey = seen_journey if isinstance(seen_journey, dict) else {}
    return {**results, **context, "context": results, "customer": customer, "offer": offer or {},
            "journey": {**seen_journey, **journey}}


def _describe(error: JinjaTemplateError) -> str:
    line = getattr(error, "lineno", None)
    message = error.message or type(error).__name__
    return f"{message} (line {line})" if line else message
