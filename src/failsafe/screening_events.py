"""A cheaper validation of the common event shape for `failsafe screen`, never looser than the
event schema.

`failsafe screen` must accept exactly what `POST /v1/events` and the ingest worker accept
(`failsafe.ingest.events.parse_event`), but pydantic's validation plus the dump back to a dict
cost about 100 µs an event, more than screening it. `fast_event` checks the common shape by
hand: the contract's own fields only (no extra keys anywhere), plain JSON types, each string
within its field's length and free of NUL and lone surrogates, timestamps in one strict RFC 3339
form within the schema's years, codes of ASCII letters and digits, the date of birth through the
one date grammar (`failsafe.kit.codes`). Anything else, valid or not, returns None and the
caller runs `parse_event`, which accepts it or gives the canonical reason.

Strings are checked for NUL once, on the raw line: orjson refuses raw control characters and
lone surrogates, so a string can only hold NUL through a `\\u0000` escape (a line holding that
text anywhere, even as an escaped backslash, goes to `parse_event`).

Invariant (checked by hypothesis in tests/unit/test_screening_fast_events.py): when
`fast_event` returns a dict, `parse_event` accepts the same bytes, and the screening query made
from the two is the same.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson

from failsafe.ingest.events import MAX_YEAR, MIN_YEAR, SCHEMA_V1
from failsafe.kit.codes import BLANKS, normalize_partial_date

_MAX_BYTES = 256 * 1024  # parse_event's default
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
_UNKNOWN_DATE = re.compile(r"0000(?:-00(?:-00)?)?")
# A date of birth's normal form, kept: a few tens of thousands of distinct values recur across
# travellers, and the function is pure.
_normal_date = lru_cache(maxsize=100_000)(normalize_partial_date)

_TOP = frozenset({"schema", "event_id", "kind", "occurred_at", "source", "country", "crossing",
                  "flight", "traveller", "document", "mrz"})
_KINDS = frozenset({"border_crossing", "travel_booking"})
# Field -> longest string allowed (the schema's max_length).
_TRAVELLER = {"surname": 200, "given_names": 200, "full_name": 200, "name_original": 200,
              "sex": 1}
_DOCUMENT = {"type": 2, "number": 32, "expiry_date": 10}
_CROSSING = {"point": 64, "mode": 64}
_DIRECTIONS = frozenset({"entry", "exit", "transit"})
_FLIGHT = {"carrier": 64, "number": 64, "origin": 4, "destination": 4}


class _Slow(Exception):
    """Not the common shape: let `parse_event` decide."""


def fast_event(line: bytes) -> dict[str, Any] | None:
    """The event of `line` as screening reads it (event id, traveller with its date of birth
    normalised, document, MRZ), or None when `parse_event` has to decide (see the module)."""
    if len(line) > _MAX_BYTES or b"\\u0000" in line:
        return None
    try:
        data = orjson.loads(line)
        return _event(data)
    except (_Slow, orjson.JSONDecodeError, TypeError, ValueError):
        # Not the common shape (or a check above met a type it did not expect): the schema
        # decides, and gives the reason.
        return None


def _event(data: Any) -> dict[str, Any]:
    if type(data) is not dict or not data.keys() <= _TOP:
        raise _Slow
    if "schema" in data and data["schema"] != SCHEMA_V1:
        raise _Slow
    event_id = data.get("event_id")
    if type(event_id) is not str or not 0 < len(event_id) <= 128:
        raise _Slow
    kind = data.get("kind")
    if type(kind) is not str or kind not in _KINDS:
        raise _Slow
    _timestamp(data.get("occurred_at"))
    _optional(data.get("source"), 64)
    _code(data.get("country"))
    crossing = data.get("crossing")
    if crossing is not None:
        _fields(crossing, _CROSSING, ("direction",))
        direction = crossing.get("direction")
        if direction is not None and (type(direction) is not str or direction not in _DIRECTIONS):
            raise _Slow
    flight = data.get("flight")
    if flight is not None:
        _fields(flight, _FLIGHT, ("scheduled_departure", "transit"))
        if flight.get("scheduled_departure") is not None:
            _timestamp(flight["scheduled_departure"])
        transit = flight.get("transit", [])
        if type(transit) is not list or len(transit) > 16:
            raise _Slow
        for airport in transit:
            if type(airport) is not str or len(airport) > 4:
                raise _Slow
    traveller = _fields(data.get("traveller"), _TRAVELLER, ("date_of_birth", "nationality"))
    _code(traveller.get("nationality"))
    dob = traveller.get("date_of_birth")
    if dob is not None:
        if type(dob) is not str:
            raise _Slow
        stripped = dob.strip(BLANKS)
        if not stripped or _UNKNOWN_DATE.fullmatch(stripped):
            traveller = {k: v for k, v in traveller.items() if k != "date_of_birth"}
        else:
            try:
                normal = _normal_date(dob)
            except ValueError:
                raise _Slow from None
            if normal != dob:
                traveller = {**traveller, "date_of_birth": normal}
    document = data.get("document")
    if document is not None:
        _fields(document, _DOCUMENT, ("issuing_state",))
        _code(document.get("issuing_state"))
    mrz = data.get("mrz")
    if mrz is not None:
        if type(mrz) is not list or len(mrz) > 3:
            raise _Slow
        for row in mrz:
            if type(row) is not str or len(row) > 44:
                raise _Slow
    out: dict[str, Any] = {"event_id": event_id, "traveller": traveller}
    if document is not None:
        out["document"] = document
    if mrz is not None:
        out["mrz"] = mrz
    return out


def _fields(
    value: Any, strings: dict[str, int], checked_by_caller: tuple[str, ...]
) -> dict[str, Any]:
    if type(value) is not dict:
        raise _Slow
    for key, item in value.items():
        limit = strings.get(key)
        if limit is None:
            if key not in checked_by_caller:
                raise _Slow  # an extra field: the full validation checks what it holds
        else:
            _optional(item, limit)
    return value


def _optional(value: Any, limit: int) -> None:
    if value is not None and (type(value) is not str or len(value) > limit):
        raise _Slow


def _code(value: Any) -> None:
    # 1-3 ASCII letters or digits (`[A-Za-z0-9]{1,3}`, without the regex call).
    if value is not None and (type(value) is not str or not 0 < len(value) <= 3
                              or not value.isascii() or not value.isalnum()):
        raise _Slow


def _timestamp(value: Any) -> None:
    if type(value) is not str or not _TIMESTAMP.fullmatch(value):
        raise _Slow
    # A year away from both ends: the offset cannot carry it out of range in UTC, so the
    # calendar check is all that is left.
    if not MIN_YEAR < int(value[:4]) < MAX_YEAR:
        raise _Slow
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise _Slow from None
