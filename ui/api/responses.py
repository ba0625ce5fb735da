"""The JSON answer of every API route. NiceGUI's default (orjson) refuses integers past 64 bits, so one row
stored before input was bounded would answer 500 on every read that includes it; this one encodes them
exactly, and a stored NaN or infinity as null (JSON has neither)."""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi.responses import JSONResponse


class ApiJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        try:
            text = _dumps(content)
        except ValueError:  # a non-finite float somewhere
            text = _dumps(_finite(content))
        return text.encode()


def _dumps(content: Any) -> str:
    return json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(child) for key, child in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(child) for child in value]
    return value
