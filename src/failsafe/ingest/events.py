"""Event schema v1 (docs/contracts.md "Event") and the validation every source applies to raw bytes.

Lenient where the contract is lenient (unknown fields are kept and ignored), strict where it is
strict: a missing `event_id`, a wrong type, an unknown schema version or kind, an unreadable or
oversized message is an `InvalidEvent` that goes to the dead-letter topic.

Invariant: an event that `parse_event` accepts can be serialized (pydantic, orjson) and stored
(PostgreSQL text and jsonb) by every later step. So the whole message, unknown fields included,
is checked for what those refuse: nesting deeper than `MAX_DEPTH`, NUL characters and lone
surrogates in any string or key, integers outside 64 bits and non-finite numbers; timestamps
lie within years `MIN_YEAR`..`MAX_YEAR` in UTC (converting year 1 or 9999 with an offset to UTC
overflows). Each rejection names the check and the field path, never the value.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from failsafe.errors import InvalidEvent
from failsafe.kit.codes import OptionalPartialDate
from failsafe.kit.validation import summary

SCHEMA_V1: Literal["failsafe.event/v1"] = "failsafe.event/v1"

# Timestamps (occurred_at, flight.scheduled_departure) must fall within these years, in UTC.
MIN_YEAR = 1900
MAX_YEAR = 2200
# Levels of objects and arrays in a whole message (the event itself is level 1). The contract
# needs 3; the rest is room for senders' own fields, far below the serializers' limits (~250).
MAX_DEPTH = 32
# Integers must fit a signed 64-bit integer (orjson refuses larger ones when writing).
MAX_INT = 2**63 - 1
MIN_INT = -(2**63)


def _sane_timestamp(value: datetime) -> datetime:
    # The local year first: converting 9999-12-31T23:59:59-14:00 to UTC would overflow.
    if not MIN_YEAR - 1 <= value.year <= MAX_YEAR + 1 or not (
        MIN_YEAR <= value.astimezone(UTC).year <= MAX_YEAR
    ):
        raise PydanticCustomError(
            "timestamp_out_of_range",
            "a timestamp between the years {min_year} and {max_year} (UTC)",
            {"min_year": MIN_YEAR, "max_year": MAX_YEAR},
        )
    return value


Timestamp = Annotated[AwareDatetime, AfterValidator(_sane_timestamp)]

Code = Annotated[str, StringConstraints(min_length=1, max_length=3, strip_whitespace=True)]
Short = Annotated[str, StringConstraints(max_length=64)]
Name = Annotated[str, StringConstraints(max_length=200)]
Airport = Annotated[str, StringConstraints(max_length=4)]
MrzLine = Annotated[str, StringConstraints(max_length=44)]
Lane = Annotated[str, StringConstraints(min_length=1, max_length=16, strip_whitespace=True)]


class _Open(BaseModel):
    # Unknown fields are kept (they travel with the sighting) and ignored by screening.
    model_config = ConfigDict(extra="allow")


class Traveller(_Open):
    surname: Name | None = None
    given_names: Name | None = None
    full_name: Name | None = None
    name_original: Name | None = None
    date_of_birth: OptionalPartialDate = None  # the one date grammar (failsafe.kit.codes)
    sex: Annotated[str, StringConstraints(max_length=1)] | None = None
    nationality: Code | None = None


class Document(_Open):
    type: Annotated[str, StringConstraints(max_length=2)] | None = None
    number: Annotated[str, StringConstraints(max_length=32)] | None = None
    issuing_state: Code | None = None
    expiry_date: Annotated[str, StringConstraints(max_length=10)] | None = None


class Vehicle(_Open):
    """Issue 12: what passed the lane with the traveller (evidence on a radiation alarm)."""

    plate: Annotated[str, StringConstraints(max_length=32)] | None = None
    container: Annotated[str, StringConstraints(max_length=32)] | None = None


class Location(_Open):
    """Issue 14: where a crossing point is (WGS 84 degrees), for the dashboard's map when the
    point is not in `FAILSAFE_DASHBOARD__CROSSING_POINTS`."""

    lat: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
    lon: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


class Crossing(_Open):
    point: Short | None = None
    mode: Short | None = None
    direction: Literal["entry", "exit", "transit"] | None = None
    # Issue 12: the lane (as the point names it: "3", "T2") meets radiation alarms of that lane.
    lane: Lane | None = None
    vehicle: Vehicle | None = None
    location: Location | None = None


class Flight(_Open):
    carrier: Short | None = None
    number: Short | None = None
    origin: Annotated[str, StringConstraints(max_length=4)] | None = None
    destination: Annotated[str, StringConstraints(max_length=4)] | None = None
    scheduled_departure: Timestamp | None = None
    transit: Annotated[list[Airport], Field(max_length=16)] = []


class Event(_Open):
    schema_: Literal["failsafe.event/v1"] = Field(default=SCHEMA_V1, alias="schema")
    event_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    kind: Literal["border_crossing", "travel_booking"]
    occurred_at: Timestamp
    source: Short | None = None
    country: Code | None = None
    crossing: Crossing | None = None
    flight: Flight | None = None
    traveller: Traveller
    document: Document | None = None
    mrz: Annotated[list[MrzLine], Field(max_length=3)] | None = None

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# Error kinds of our own whose message is fixed text (no value): it is added to the reason.
_EXPLAINED = frozenset({"timestamp_out_of_range"})


def parse_event(raw: bytes | str | dict[str, Any], max_bytes: int = 256 * 1024) -> Event:
    """Validate one message into an Event, or raise InvalidEvent with a reason fit for headers."""
    if isinstance(raw, dict):
        data: Any = raw
    else:
        size = len(raw.encode() if isinstance(raw, str) else raw)
        if size > max_bytes:
            raise InvalidEvent(f"oversized: {size} bytes > {max_bytes}")
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InvalidEvent(f"not JSON: {exc.msg} at {exc.pos}") from None
    if not isinstance(data, dict):
        raise InvalidEvent("not a JSON object")
    check_values(data)
    schema = data.get("schema", SCHEMA_V1)
    if schema != SCHEMA_V1:
        raise InvalidEvent(f"unknown schema version: {str(schema)[:40]!r}")
    try:
        return Event.model_validate(data)
    except ValidationError as exc:
        raise InvalidEvent(f"schema violation: {summary(exc, _EXPLAINED)}") from None


def _key(part: object) -> str:
    # A sender's key in a reason: printable, short, and never a NUL or surrogate of its own.
    text = str(part)[:32]
    return "".join(c if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF else "?" for c in text)


def _path(path: tuple[object, ...]) -> str:
    return ".".join(_key(p) for p in path)[:200] or "(root)"


def _bad_string(text: str) -> str | None:
    if "\x00" in text:
        return "NUL character"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # the only code points UTF-8 cannot carry: surrogates
            return "lone surrogate"
    return None


class _Unsafe(Exception):
    """Raised inside the walk; the path is collected on the way out (only then is it needed)."""

    def __init__(self, problem: str, before: str = "", after: str = "") -> None:
        self.reason = (problem, before, after)  # "<problem>: <before><path><after>"
        self.path: list[object] = []


def _scan(value: Any, depth: int) -> None:
    # Recursion is bounded: a container is only entered below MAX_DEPTH.
    if isinstance(value, str):
        problem = _bad_string(value)
        if problem:
            raise _Unsafe(problem)
    elif isinstance(value, dict):
        if depth >= MAX_DEPTH:
            raise _Unsafe("nested too deeply", f"more than {MAX_DEPTH} levels at ")
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Unsafe("wrong key type")
            problem = _bad_string(key)
            if problem:
                exc = _Unsafe(problem, "in a key at ")
                exc.path.append(key)
                raise exc
            try:
                _scan(item, depth + 1)
            except _Unsafe as exc:
                exc.path.append(key)
                raise
    elif isinstance(value, list):
        if depth >= MAX_DEPTH:
            raise _Unsafe("nested too deeply", f"more than {MAX_DEPTH} levels at ")
        for i, item in enumerate(value):
            try:
                _scan(item, depth + 1)
            except _Unsafe as exc:
                exc.path.append(i)
                raise
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if not MIN_INT <= value <= MAX_INT:
            raise _Unsafe("number out of range", after=" (integers: 64 bits)")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise _Unsafe("number out of range", after=" (not finite)")
    else:
        raise _Unsafe("not a JSON value")


def check_values(data: Any) -> None:
    """Reject what later steps cannot serialize or store, anywhere in a decoded message.

    Raises InvalidEvent naming the check and the path: nesting beyond MAX_DEPTH, a NUL or lone
    surrogate in a string or key, an integer outside 64 bits, a non-finite number.
    """
    try:
        _scan(data, 0)
    except _Unsafe as exc:
        problem, before, after = exc.reason
        path = _path(tuple(reversed(exc.path)))
        raise InvalidEvent(f"{problem}: {before}{path}{after}") from None
