"""The one error shape, described for OpenAPI, and `error_responses(...)` for route decorators."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    model_config = {"extra": "allow"}

    loc: list[str | int] | None = Field(default=None, description="where, for validation errors")
    msg: str | None = None
    type: str | None = None


class ErrorInfo(BaseModel):
    code: str = Field(description="stable machine-readable code", examples=["not_found"])
    message: str = Field(description="human-readable, never carries personal data")
    details: list[ErrorDetail] | None = None


class ErrorBody(BaseModel):
    """Every error answers with this shape."""

    error: ErrorInfo


_DESCRIPTIONS: dict[int, tuple[str, str, str]] = {
    400: ("bad request (unreadable body, bad cursor or If-Match)", "bad_request", "invalid cursor"),
    401: ("no token, or an unknown or revoked one", "unauthorized", "missing bearer token"),
    403: ("the principal's role does not allow this", "forbidden", "role not allowed"),
    404: ("no such object, or one the caller may not see", "not_found", "no such entry"),
    409: ("conflicts with the current state (e.g. a stale version)", "conflict", "stale version"),
    412: ("If-Match does not match the current ETag", "precondition_failed", "version mismatch"),
    413: ("request body too large", "payload_too_large", "request body too large"),
    422: ("field-level validation errors", "validation_error", "invalid request"),
    429: ("too many failed authentications from this address", "rate_limited", "retry later"),
    503: ("a dependency (database, Kafka, the matcher) is not available", "unavailable", "retry"),
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for the given status codes, all with the error shape and an example."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        description, error_code, message = _DESCRIPTIONS[code]
        example: dict[str, Any] = {"error": {"code": error_code, "message": message}}
        if code == 422:
            example["error"]["details"] = [
                {
                    "loc": ["body", "subject", "nationalities", 0],
                    "msg": "Value error, not an ISO 3166-1 alpha-3 or ICAO country code",
                    "type": "value_error",
                }
            ]
        out[code] = {
            "model": ErrorBody,
            "description": description,
            "content": {"application/json": {"example": example}},
        }
    return out


def operation_id(route: Any) -> str:
    """OpenAPI operation ids `<domain>_<action>` (the route's first tag, then its function's name
    without a trailing repeat of the domain): `watchlist_create_entry`, `alerts_list`,
    `principals_revoke`. Unique across the app (tests/unit/test_openapi_ids.py)."""
    tag = str(route.tags[0]) if route.tags else "failsafe"
    domain = "".join(c if c.isalnum() else "_" for c in tag.lower())
    name = str(route.name)
    for repeat in (f"_{domain}", f"_{domain.removesuffix('s')}"):
        if name.endswith(repeat) and name != repeat.lstrip("_"):
            name = name.removesuffix(repeat)
            break
    return name if name.startswith(f"{domain}_") else f"{domain}_{name}"
