"""Event schema v1: what is accepted, what is rejected and the reasons given."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from failsafe.errors import InvalidEvent
from failsafe.ingest.events import parse_event

BASE: dict[str, Any] = {
    "schema": "failsafe.event/v1",
    "event_id": "ev-1",
    "kind": "border_crossing",
    "occurred_at": "2026-11-27T10:22:05+01:00",
    "country": "DEU",
    "crossing": {"point": "DEU-FRA-T1", "mode": "air", "direction": "entry"},
    "traveller": {"surname": "ERIKSSON", "given_names": "ANNA MARIA"},
}


def test_a_contract_event_is_accepted_and_unknown_fields_are_kept() -> None:
    ev = parse_event(orjson.dumps({**BASE, "vendor_field": {"x": 1}}))
    out = ev.to_json_dict()
    assert out["event_id"] == "ev-1"
    assert out["vendor_field"] == {"x": 1}
    assert out["occurred_at"] == "2026-11-27T10:22:05+01:00"


def test_schema_defaults_to_v1_when_absent() -> None:
    data = {k: v for k, v in BASE.items() if k != "schema"}
    assert parse_event(orjson.dumps(data)).schema_ == "failsafe.event/v1"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (orjson.dumps({**BASE, "schema": "failsafe.event/v2"}), "unknown schema version"),
        (orjson.dumps({**BASE, "event_id": 7}), "schema violation: event_id: string_type"),
        (orjson.dumps({k: v for k, v in BASE.items() if k != "event_id"}), "event_id: missing"),
        (orjson.dumps({**BASE, "occurred_at": "2026-11-27T10:22:05"}), "timezone_aware"),
        (orjson.dumps({**BASE, "kind": "teleport"}), "kind: literal_error"),
        (orjson.dumps({**BASE, "mrz": ["X" * 45]}), "mrz.0: string_too_long"),
    ],
)
def test_rejections_say_why_without_the_values(raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        parse_event(raw)
    assert reason in info.value.message
    assert "ERIKSSON" not in info.value.message


def test_oversized_messages_are_rejected_before_parsing() -> None:
    raw = orjson.dumps({**BASE, "pad": "x" * 2000})
    with pytest.raises(InvalidEvent, match="oversized"):
        parse_event(raw, max_bytes=1024)


def _raw_with(field: str, value_json: bytes) -> bytes:
    """BASE as JSON with `field` set to a raw JSON value (for values Python cannot dump)."""
    return orjson.dumps(BASE)[:-1] + b',"' + field.encode() + b'":' + value_json + b"}"


NESTED_300 = b"[" * 300 + b"1" + b"]" * 300


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        # Timestamps whose conversion to UTC overflows, and others outside the years 1900..2200.
        (orjson.dumps({**BASE, "occurred_at": "9999-12-31T23:59:59-14:00"}),
         "occurred_at: timestamp_out_of_range (a timestamp between the years 1900 and 2200"),
        (orjson.dumps({**BASE, "occurred_at": "0001-01-01T00:00:00+14:00"}),
         "occurred_at: timestamp_out_of_range"),
        (orjson.dumps({**BASE, "occurred_at": "2200-12-31T23:30:00-01:00"}),  # 2201 in UTC
         "occurred_at: timestamp_out_of_range"),
        (orjson.dumps({**BASE, "occurred_at": "1899-12-31T23:59:59+00:00"}),
         "occurred_at: timestamp_out_of_range"),
        (orjson.dumps({**BASE, "kind": "travel_booking",
                       "flight": {"scheduled_departure": "9999-12-31T23:59:59-14:00"}}),
         "flight.scheduled_departure: timestamp_out_of_range"),
        # Nesting, in unknown fields too.
        (_raw_with("vendor", NESTED_300), "nested too deeply: more than 32 levels at vendor.0.0"),
        (_raw_with("vendor", b'{"a":' * 40 + b"1" + b"}" * 40), "nested too deeply"),
        # NUL characters anywhere: known fields, unknown fields, keys.
        (orjson.dumps({**BASE, "traveller": {"surname": "ERIKSSON\u0000"}}),
         "NUL character: traveller.surname"),
        (orjson.dumps({**BASE, "vendor": {"note": ["ok", "a\u0000b"]}}),
         "NUL character: vendor.note.1"),
        (orjson.dumps({**BASE, "vendor": {"k\u0000ey": 1}}),
         "NUL character: in a key at vendor.k?ey"),
        (orjson.dumps({**BASE, "event_id": "\u0000"}), "NUL character: event_id"),
        # Numbers: JSON allows any; the serializer and the database do not.
        (_raw_with("vendor", b"1e400"), "not JSON"),  # orjson refuses infinite floats
        (_raw_with("vendor", b"-1e400"), "not JSON"),
        (_raw_with("vendor", b"1" + b"0" * 400), "not JSON"),
        # Lone surrogates (JSON escapes can spell them; UTF-8 cannot carry them).
        (_raw_with("vendor", b'"\\ud800"'), "not JSON"),
        (_raw_with("vendor", b'"\\udfff x"'), "not JSON"),
    ],
)
def test_values_later_steps_cannot_hold_are_rejected_at_the_edge(raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        parse_event(raw)
    assert reason in info.value.message
    assert "ERIKSSON" not in info.value.message
    assert "\x00" not in info.value.message


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        pytest.param(10**400, "number out of range: vendor (integers: 64 bits)", id="10**400"),
        (2**63, "number out of range"),
        (-(2**63) - 1, "number out of range"),
        (float("inf"), "number out of range: vendor (not finite)"),
        (float("nan"), "number out of range"),
        ("\ud800", "lone surrogate: vendor"),
        ({"\udc00": 1}, "lone surrogate: in a key at vendor.?"),
        ({1: 1}, "wrong key type: vendor"),
        ({"x": object()}, "not a JSON value: vendor.x"),
    ],
)
def test_decoded_messages_are_checked_the_same_way(value: Any, reason: str) -> None:
    # Python callers (the API's body, the screen CLI) hand over decoded values.
    with pytest.raises(InvalidEvent) as info:
        parse_event({**BASE, "vendor": value})
    assert reason in info.value.message


def test_values_at_the_limits_are_accepted_and_kept() -> None:
    deep: Any = "leaf"
    for _ in range(30):  # the event, "vendor" and 30 levels: 32 in all
        deep = [deep]
    data = {
        **BASE,
        "occurred_at": "2200-12-31T23:59:59+00:00",
        "vendor": {"deep": deep, "big": 2**63 - 1, "small": -(2**63), "f": 1.5e308,
                   "text": "Ünïcødé \U0001f600 \u200b", "empty": ""},
    }
    out = parse_event(orjson.dumps(data)).to_json_dict()
    assert out["vendor"] == data["vendor"]
    assert orjson.loads(orjson.dumps(out)) == out  # the serializer can hold it
    assert parse_event({**BASE, "occurred_at": "1900-01-01T00:00:00+00:00"})
    one_more = {**data, "vendor": {"deep": [deep]}}
    with pytest.raises(InvalidEvent, match="nested too deeply"):
        parse_event(orjson.dumps(one_more))
