"""Event schema v1 (DESIGN.md "Event") and the validation every source applies to raw bytes.

Lenient where the contract is lenient (unknown fields are kept and ignored), strict where it is
strict: a missing `event_id`, a wrong type, an unknown schema version or kind, an unreadable or
oversized message is an `InvalidEvent` that goes to the dead-letter topic.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from failsafe.errors import InvalidEvent
from failsafe.kit.codes import OptionalPartialDate

SCHEMA_V1: Literal["failsafe.event/v1"] = "failsafe.event/v1"

Code = Annotated[str, StringConstraints(min_length=1, max_length=3, strip_whitespace=True)]
Short = Annotated[str, StringConstraints(max_length=64)]
Name = Annotated[str, StringConstraints(max_length=200)]
Airport = Annotated[str, StringConstraints(max_length=4)]
MrzLine = Annotated[str, StringConstraints(max_length=44)]


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


class Crossing(_Open):
    point: Short | None = None
    mode: Short | None = None
    direction: Literal["entry", "exit", "transit"] | None = None


class Flight(_Open):
    carrier: Short | None = None
    number: Short | None = None
    origin: Annotated[str, StringConstraints(max_length=4)] | None = None
    destination: Annotated[str, StringConstraints(max_length=4)] | None = None
    scheduled_departure: AwareDatetime | None = None
    transit: Annotated[list[Airport], Field(max_length=16)] = []


class Event(_Open):
    schema_: Literal["failsafe.event/v1"] = Field(default=SCHEMA_V1, alias="schema")
    event_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    kind: Literal["border_crossing", "travel_booking"]
    occurred_at: AwareDatetime
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


def _describe(exc: ValidationError) -> str:
    # Field paths and error kinds only: the values may be personal data.
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{loc}: {err['type']}")
    more = len(exc.errors()) - 5
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


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
    schema = data.get("schema", SCHEMA_V1)
    if schema != SCHEMA_V1:
        raise InvalidEvent(f"unknown schema version: {str(schema)[:40]!r}")
    try:
        return Event.model_validate(data)
    except ValidationError as exc:
        raise InvalidEvent(f"schema violation: {_describe(exc)}") from None
