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

A dependency that is away (PostgreSQL refusing or dropping connections, a timeout) is not a
server error: `dependency_unavailable(exc)` tells those apart from data errors, and the app
answers them 503 with `Retry-After`, like `Unavailable`.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import exc as sa_exc

# asyncpg errors that mean "the server is not there for us right now", not "this data is wrong".
_ASYNCPG_AWAY = (
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08, and the connection lost mid-query
    asyncpg.CannotConnectNowError,  # starting up or shutting down
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
)

_FILE_ERRORS = (
    FileNotFoundError,
    FileExistsError,
    PermissionError,
    IsADirectoryError,
    NotADirectoryError,
)


def dependency_unavailable(exc: BaseException) -> bool:
    """True when `exc` (or what it wraps) says a dependency is away rather than a request or its
    data being wrong: connection refused or lost, the server shutting down, a timeout."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _FILE_ERRORS):
            return False  # an OSError, but about a file, not a peer
        if isinstance(current, (OSError, sa_exc.TimeoutError, *_ASYNCPG_AWAY)):
            return True  # OSError covers refused, reset, unreachable, timed out...
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, asyncpg.InterfaceError) and "closed" in str(current):
            return True  # "connection is closed": the pool handed out a connection that died
        if isinstance(current, sa_exc.DBAPIError) and isinstance(current.orig, BaseException):
            current = current.orig
        else:
            current = current.__cause__ or current.__context__
    return False


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
