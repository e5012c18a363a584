"""The radiation alarm contract `failsafe.alarm/v1` (docs/alarms.md, DESIGN "Radiation alarm").

Lenient where the event contract is (unknown fields are kept), strict on what correlation needs:
`alarm_id` (the idempotency key), `occurred_at`, `country`, `point`, at least one category. A
rejection is an `InvalidAlarm` whose reason names the field paths and checks, never the values.
The whole message passes the same storage checks as events (`check_values`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from failsafe.errors import InvalidEvent
from failsafe.ingest.events import Code, Lane, Short, Timestamp, check_values

SCHEMA_V1: Literal["failsafe.alarm/v1"] = "failsafe.alarm/v1"

AlarmCategory = Literal["gamma", "neutron", "isotope", "other"]
NuclideCategory = Literal["norm", "medical", "industrial", "snm", "unknown"]
InstrumentKind = Literal["portal", "spectroscopic_portal", "handheld", "other"]
# The codes that say the alarm was innocent (adjudicating with one closes the alarm's alert).
InnocentCode = Literal[
    "medical_isotope",
    "norm",
    "declared_shipment",
    "inspection_negative",
    "background_only",
    "false_other",
    "test_or_maintenance",
    "tamper_or_fault",
]
# Nested Literals flatten: the codes in this order, as the API's enum lists them.
AdjudicationCode = Literal["contraband_found", "real_other", InnocentCode, "other"]
ADJUDICATION_CODES: tuple[AdjudicationCode, ...] = get_args(AdjudicationCode)
Secondary = Literal["none", "requested", "completed"]


class InvalidAlarm(InvalidEvent):
    """An alarm message that cannot be accepted (422 on the API, dead-lettered on Kafka)."""

    code = "invalid_alarm"


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Instrument(_Open):
    id: Short | None = None
    kind: InstrumentKind | None = None
    model: Annotated[str, StringConstraints(max_length=200)] | None = None


class Occupancy(_Open):
    start: Timestamp
    end: Timestamp

    @model_validator(mode="after")
    def _ordered(self) -> Occupancy:
        if self.end < self.start:
            raise ValueError("occupancy end before its start")
        return self


NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class Counts(_Open):
    max_cps: NonNegative | None = None
    background_cps: NonNegative | None = None
    sigma: Annotated[float, Field(allow_inf_nan=False)] | None = None


class Nuclide(_Open):
    name: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    category: NuclideCategory = "unknown"
    confidence: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    activity_kbq: NonNegative | None = None


class Alarm(_Open):
    schema_: Literal["failsafe.alarm/v1"] = Field(default=SCHEMA_V1, alias="schema")
    alarm_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    occurred_at: Timestamp
    source: Short | None = None
    country: Code
    point: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    lane: Lane | None = None
    instrument: Instrument | None = None
    occupancy: Occupancy | None = None
    categories: Annotated[list[AlarmCategory], Field(min_length=1, max_length=4)]
    gamma: Counts | None = None
    neutron: Counts | None = None
    dose_rate_usv_h: NonNegative | None = None
    nuclides: Annotated[list[Nuclide], Field(max_length=32)] = []

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def _describe(exc: ValidationError) -> str:
    # Field paths and error kinds only: values are not echoed.
    parts = [
        f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['type']}"
        for err in exc.errors()[:5]
    ]
    more = len(exc.errors()) - 5
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def validate_alarm(data: Any) -> Alarm:
    """A decoded message (JSON object, or the N42 mapping) as an Alarm, or InvalidAlarm."""
    if not isinstance(data, dict):
        raise InvalidAlarm("not a JSON object")
    try:
        check_values(data)
    except InvalidEvent as exc:
        raise InvalidAlarm(exc.message) from None
    schema = data.get("schema", SCHEMA_V1)
    if schema != SCHEMA_V1:
        raise InvalidAlarm(f"unknown schema version: {str(schema)[:40]!r}")
    try:
        return Alarm.model_validate(data)
    except ValidationError as exc:
        raise InvalidAlarm(f"schema violation: {_describe(exc)}") from None


def looks_like_xml(raw: bytes) -> bool:
    """True when a message is XML (an N42 document) rather than JSON: its first non-blank byte
    (after a UTF-8 byte-order mark) is `<`."""
    return raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<"


def parse_alarm(raw: bytes, max_bytes: int, *, xml: bool | None = None) -> Alarm:
    """Raw bytes (JSON, or N42.42 XML when `xml`, or when it looks like XML) as an Alarm."""
    if len(raw) > max_bytes:
        raise InvalidAlarm(f"oversized: {len(raw)} bytes > {max_bytes}")
    if xml is None:
        xml = looks_like_xml(raw)
    if xml:
        from failsafe.alarms.n42 import n42_to_alarm

        return validate_alarm(n42_to_alarm(raw))
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidAlarm(f"not JSON: {exc.msg} at {exc.pos}") from None
    return validate_alarm(data)
