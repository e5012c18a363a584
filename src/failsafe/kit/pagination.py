"""Opaque cursors for keyset pagination: the last row's sort key, base64url-encoded JSON."""

from __future__ import annotations

import base64
import binascii
from typing import Any, TypeVar

import orjson

from failsafe.errors import BadRequest
from failsafe.kit.safe import DB_INT_MAX, storable_text

MAX_CURSOR_LEN = 512
T = TypeVar("T")


def encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The key an earlier page encoded; BadRequest for anything else (never a 500)."""
    try:
        if len(cursor) > MAX_CURSOR_LEN:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = orjson.loads(raw)
    except (ValueError, binascii.Error, orjson.JSONDecodeError):
        raise BadRequest("invalid cursor") from None
    if not isinstance(key, dict):
        raise BadRequest("invalid cursor")
    return key


def cursor_key(cursor: str | None, key: str, kind: type[T]) -> T | None:
    """The `key` of a cursor from an earlier page (None without a cursor); BadRequest when the
    cursor is not one of ours."""
    if not cursor:
        return None
    value = decode_cursor(cursor).get(key)
    # bool is an int to Python, never to a cursor.
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BadRequest("invalid cursor")
    # A forged cursor must not reach SQL with what PostgreSQL cannot hold (a 500 otherwise).
    if isinstance(value, int) and abs(value) > DB_INT_MAX:
        raise BadRequest("invalid cursor")
    if isinstance(value, str) and not storable_text(value):
        raise BadRequest("invalid cursor")
    return value
