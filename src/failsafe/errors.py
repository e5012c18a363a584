"""The exception tree and its one JSON shape.

    FailsafeError                 500  internal
     ├── BadRequest               400  bad_request
     ├── Unauthorized             401  unauthorized
     ├── Forbidden                403  forbidden
     ├── NotFound                 404  not_found
     ├── Conflict                 409  conflict
     ├── PreconditionFailed       412  precondition_failed
     ├── Unprocessable            422  validation_error
     │    └── InvalidEvent        422  invalid_event
     ├── TooManyRequests          429  rate_limited
     └── Unavailable              503  unavailable

Every error answers `{"error": {"code": ..., "message": ..., "details": [...]}}`. Messages must
never carry personal data (names, document numbers, MRZ): they end up in logs.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar


class FailsafeError(Exception):
    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal"

    def __init__(
        self,
        message: str = "",
        details: list[dict[str, Any]] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message or self.code)
        self.message = message or self.code.replace("_", " ")
        self.details = details or []
        # Response headers the error carries (e.g. `Retry-After` on 429).
        self.headers = dict(headers or {})

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return {"error": body}


class BadRequest(FailsafeError):
    status_code = 400
    code = "bad_request"


class Unauthorized(FailsafeError):
    status_code = 401
    code = "unauthorized"


class Forbidden(FailsafeError):
    status_code = 403
    code = "forbidden"


class NotFound(FailsafeError):
    status_code = 404
    code = "not_found"


class Conflict(FailsafeError):
    status_code = 409
    code = "conflict"


class PreconditionFailed(FailsafeError):
    status_code = 412
    code = "precondition_failed"


class Unprocessable(FailsafeError):
    status_code = 422
    code = "validation_error"


class InvalidEvent(Unprocessable):
    code = "invalid_event"


class TooManyRequests(FailsafeError):
    status_code = 429
    code = "rate_limited"

    @classmethod
    def retry_in(cls, message: str, seconds: float) -> TooManyRequests:
        """The error with `Retry-After` (whole seconds, at least 1) and the same in details."""
        wait = max(1, math.ceil(seconds))
        return cls(message, details=[{"retry_after": wait}], headers={"Retry-After": str(wait)})


class Unavailable(FailsafeError):
    status_code = 503
    code = "unavailable"
