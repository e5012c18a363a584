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
