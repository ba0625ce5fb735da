"""Domain errors. The API turns each into the `{"error": {code, message, details}}` envelope."""

from __future__ import annotations

from typing import Any


class JourneysError(Exception):
    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, details: Any = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details if details is not None else {}
        if code:
            self.code = code


class NotFound(JourneysError):
    status = 404
    code = "not_found"


class Conflict(JourneysError):
    status = 409
    code = "conflict"


class Invalid(JourneysError):
    """Input that is well-formed JSON but wrong; `details` names the field at fault."""

    status = 422
    code = "invalid"

    def __init__(self, message: str, field: str | None = None, details: Any = None,
                 code: str | None = None) -> None:
        if details is None:
            details = {"field": field} if field else {}
        super().__init__(message, details, code)


class Busy(JourneysError):
    """The database had no write slot in time: nothing was changed, try again after `retry_after` seconds."""

    status = 503
    code = "busy"

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message, {"retryAfterSeconds": retry_after})
        self.retry_after = retry_after
