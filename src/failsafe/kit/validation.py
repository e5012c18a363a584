"""One way to turn pydantic validation errors into what callers see: field locations, messages and
error kinds, never the submitted values (they may be personal data, and responses and logs must
not echo them).

Used by the HTTP error handler (422 bodies), the watchlist's per-entry import errors, the event
schema's rejection reasons and the websocket's `error` frames.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError


def error_details(
    errors: Iterable[Mapping[str, Any]], prefix: Sequence[str | int] = ()
) -> list[dict[str, Any]]:
    """`{loc, msg, type}` per error, `loc` under `prefix` (e.g. an import's line)."""
    return [
        {
            "loc": [*prefix, *err.get("loc", ())],
            "msg": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in errors
    ]


def validation_details(
    exc: ValidationError, prefix: Sequence[str | int] = ()
) -> list[dict[str, Any]]:
    """Field-level errors of `exc` without the submitted values."""
    return error_details(exc.errors(include_url=False, include_input=False), prefix)


def first_error(exc: ValidationError) -> tuple[str, str]:
    """The first error's dotted location ("" for the root) and message."""
    errors = exc.errors(include_url=False, include_input=False)
    if not errors:
        return "", "invalid"
    return ".".join(str(p) for p in errors[0]["loc"]), errors[0]["msg"]


def summary(exc: ValidationError, explained: frozenset[str] = frozenset(), limit: int = 5) -> str:
    """`loc: kind` for the first `limit` errors, with the message for the kinds in `explained`
    (messages that quote no value), then how many more: a one-line reason fit for a header."""
    errors = exc.errors(include_url=False, include_input=False)
    parts = []
    for err in errors[:limit]:
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        kind = err["type"]
        parts.append(f"{loc}: {kind}" + (f" ({err['msg']})" if kind in explained else ""))
    more = len(errors) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
