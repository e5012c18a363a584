"""Input types that PostgreSQL, the JSON serialisers and the UTF-8 codecs can all hold.

What a schema accepts must be storable: otherwise a request that passed validation fails later,
inside the database driver, as a 500 (and rolls back the good work of its transaction). So:

- `Text`: a string without NUL (PostgreSQL `text` and `jsonb` refuse U+0000) and without lone
  surrogates (U+D800-U+DFFF cannot be encoded as UTF-8). Every free-text field of a request
  body uses it (names, notes, reasons, summaries); patterned fields refuse these already.
- `Instant`: an RFC 3339 timestamp with an offset (not a number read as Unix time) that is
  still a valid instant in UTC (`0001-01-01T00:00:00+14:00` is not: it lies before year 1 in
  UTC and overflows).
- `DB_INT_MAX`: the largest integer a PostgreSQL `bigint` holds; integer query parameters that
  reach SQL are bounded by it, so `?since_id=9223372036854775808` is a 422, not an overflow.

Query strings and paths are checked once for all routes by `failsafe.kit.http.InputGuard`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator

DB_INT_MAX = 2**63 - 1

# NUL and the surrogate range (a str from JSON can carry a lone `\ud800`).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(value: str) -> bool:
    """True when PostgreSQL can store `value` as text (no NUL, no lone surrogate)."""
    return _UNSTORABLE.search(value) is None


def _check_text(value: str) -> str:
    if not storable_text(value):
        raise ValueError("must not contain NUL characters or unpaired surrogates")
    return value


Text = Annotated[str, AfterValidator(_check_text)]
"""A string PostgreSQL can store; combine with `StringConstraints` for lengths."""


_RFC3339_START = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]")


def _rfc3339_only(value: Any) -> Any:
    # pydantic's lax mode reads numbers (and numeric strings) as Unix times: `?until=0.5` would
    # be 1970. The contract says RFC 3339; anything else is a 422.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or _RFC3339_START.match(value) is None:
        raise ValueError("expected an RFC 3339 timestamp with an offset")
    return value


def _check_instant(value: datetime) -> datetime:
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("timestamp out of range") from None
    return value


Instant = Annotated[
    AwareDatetime, BeforeValidator(_rfc3339_only), AfterValidator(_check_instant)
]
"""A timezone-aware timestamp that converts to UTC without overflowing."""
