"""Message templates: Jinja2 in a sandbox, so a template can read its variables and nothing else.

Templates see `customer` (attributes plus `id`, `segments`, `flags`), `offer`, `journey`, `event` and
the journey's `context` (each `storeResultAs` result also bound at top level by its name). A missing
variable (or a field of one) renders as an empty string; reaching for Python internals is refused by
the sandbox.

Every render has a budget (settings `template_time_limit`, `template_max_output`): a deadline checked as
the template's own code runs (each loop turn, macro call and output line), output streamed and cut at the
size limit, and no argument big enough to build a string past that limit in one call (`ljust(10**9)`,
`'%9999999d'`). A template over budget fails with TemplateError saying which limit it hit: the dispatcher
fails that one delivery for good and moves on.
"""

from __future__ import annotations

import operator
import re
import sys
import time
from collections.abc import Callable
from functools import lru_cache
from types import FrameType
from typing import Any

from jinja2 import ChainableUndefined, Template
from jinja2 import TemplateError as JinjaTemplateError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from engine.settings import Settings

# Bounds that keep one template from eating the dispatcher's memory (`'x' * 10**12`, `9 ** 9 ** 9`).
MAX_SEQUENCE = 100_000
MAX_EXPONENT = 100
MAX_POWER_BITS = 10_000


class TemplateError(Exception):
    """A template that does not parse, or fails while rendering; the message says why."""


class _OverBudget(Exception):
    """Raised inside a render that ran past its deadline or output limit (the message says which)."""


# Compiled templates run as code from this file name: the budget traces those frames only.
_TEMPLATE_CODE = "<template>"
# Lines of template code between two looks at the clock (a look costs more than a line).
_CHECK_EVERY = 256
_DEFAULTS = Settings.model_construct()
# Widths and precisions in `%` and str.format specs (the digits a one-call string bomb needs).
_PERCENT_WIDTH = re.compile(r"%[-+ #0]*(\d+)(?:\.(\d+))?")
_FORMAT_WIDTH = re.compile(r"\{[^{}]*[:][^{}]*?(\d+)(?:\.(\d+))?[^{}]*\}")
_SIZED_STR_METHODS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs", "format", "format_map"})


class _Deadline:
    """A thread's trace function while it renders: counts lines of template code and raises _OverBudget
    once the deadline has passed, wherever the template is (a loop with no output included)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.lines = 0

    def on_call(self, frame: FrameType, _event: str, _arg: Any) -> Callable[..., Any] | None:
        return self.on_line if frame.f_code.co_filename == _TEMPLATE_CODE else None

    def on_line(self, _frame: FrameType, event: str, _arg: Any) -> Callable[..., Any]:
        if event == "line":
            self.lines += 1
            if self.lines % _CHECK_EVERY == 0 and time.monotonic() > self.deadline:
                raise _OverBudget(f"rendering took longer than the limit of {self.seconds:g} s")
        return self.on_line


def _too_wide(spec: str, pattern: re.Pattern[str], limit: int) -> bool:
    return any(int(number) > limit for match in pattern.finditer(spec) for number in match.groups() if number)


class _Sandbox(SandboxedEnvironment):
    """Jinja's sandbox, refusing what would size a result past `max_output` characters before it allocates."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, max_output: int) -> None:
        super().__init__(autoescape=False, keep_trailing_newline=True, undefined=ChainableUndefined)
        self.max_output = max_output
        self.filters = {name: _sized(name, apply, max_output) for name, apply in self.filters.items()}

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        # A string method sized by a number (padding, a format width) is refused past the output limit
        # before it allocates: the streamed-output cap only sees the result.
        target = getattr(__obj, "__wrapped__", __obj)
        owner = getattr(target, "__self__", None)
        if isinstance(owner, str) and getattr(target, "__name__", "") in _SIZED_STR_METHODS:
            limit = __self.max_output
            numbers = [value for value in (*args, *kwargs.values()) if isinstance(value, int)]
            if any(abs(value) > limit for value in numbers) or _too_wide(owner, _FORMAT_WIDTH, limit):
                raise SecurityError(f"result longer than the output limit of {limit} characters")
        return super().call(__context, __obj, *args, **kwargs)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        # Fail loudly: the default (an undefined that renders as "") would hide the attempt.
        raise SecurityError(f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe")

    def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
        if op == "%":
            limit = self.max_output
            if isinstance(left, str) and _too_wide(left, _PERCENT_WIDTH, limit):
                raise SecurityError(f"result longer than the output limit of {limit} characters")
            return operator.mod(left, right)
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


def _sized(name: str, apply: Callable[..., Any], limit: int) -> Callable[..., Any]:
    """The filter `apply`, refusing arguments that would size its result past the output limit
    (`center(10**9)`, `indent(10**9)`, `slice(10**9)`, a `format` width)."""

    def checked(value: Any, *args: Any, **kwargs: Any) -> Any:
        numbers = [item for item in (*args, *kwargs.values()) if isinstance(item, int)]
        wide = name == "format" and isinstance(value, str) and _too_wide(value, _PERCENT_WIDTH, limit)
        if wide or any(abs(number) > limit for number in numbers):
            raise SecurityError(f"result longer than the output limit of {limit} characters")
        return apply(value, *args, **kwargs)

    # Keep Jinja's pass_context / pass_environment markers so it calls the filter the same way.
    checked.__dict__.update(getattr(apply, "__dict__", {}))
    return checked


@lru_cache(maxsize=8)
def _sandbox(max_output: int) -> _Sandbox:
    return _Sandbox(max_output)


@lru_cache(maxsize=1024)
def _compile(source: str, max_output: int) -> Template:
    return _sandbox(max_output).from_string(source)


def check(source: str) -> str | None:
    """Why `source` does not parse, or None when it does."""
    try:
        _compile(source, _DEFAULTS.template_max_output)
    except JinjaTemplateError as error:
        return _describe(error)
    return None


def render(settings: Settings, source: str, variables: dict[str, Any]) -> str:
    """Render `source` with `variables` within the settings' budget (template_time_limit,
    template_max_output); any failure (syntax, sandbox, runtime, over budget) raises TemplateError."""
    max_output = settings.template_max_output
    deadline = _Deadline(settings.template_time_limit)
    previous = sys.gettrace()
    try:
        template = _compile(source, max_output)
        parts: list[str] = []
        size = 0
        sys.settrace(deadline.on_call)
        for chunk in template.generate(variables):
            size += len(chunk)
            if size > max_output:
                raise _OverBudget(f"output longer than the limit of {max_output} characters")
            parts.append(chunk)
        return "".join(parts)
    except _OverBudget as error:
        raise TemplateError(str(error)) from None
    except JinjaTemplateError as error:
        raise TemplateError(_describe(error)) from error
    except Exception as error:  # e.g. ZeroDivisionError, TypeError inside an expression
        raise TemplateError(f"{type(error).__name__}: {error}") from error
    finally:
        sys.settrace(previous)


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
