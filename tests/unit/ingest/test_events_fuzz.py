"""The edge checks of the event schema under generated hostile input (hypothesis, no services):
whatever the bytes, `parse_event` either rejects them with a reason fit for a header, or
returns an event that every later step can serialize and store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from failsafe.alerts.recorder import _occurred_at
from failsafe.errors import InvalidEvent
from failsafe.ingest.events import MAX_DEPTH, MAX_YEAR, MIN_YEAR, parse_event
from tests.fixtures.hostile import base_event, garbage, hostile_event, hostile_value

HIT = base_event("KOVACS", "LASZLO", "1965-02-03")
FUZZ = settings(max_examples=2000, derandomize=True, database=None, deadline=None,
                suppress_health_check=list(HealthCheck))


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _check(raw: bytes | dict[str, Any]) -> None:
    try:
        event = parse_event(raw)
    except InvalidEvent as exc:
        reason = exc.message
        assert reason and len(reason) < 1000
        assert reason.isprintable()  # no NUL, no control characters, in headers or answers
        reason.encode("utf-8")  # no lone surrogate either
        return
    out = event.to_json_dict()
    stored = orjson.dumps(out)  # what the recorder writes (the engine's JSON serializer)
    assert b"\\u0000" not in stored  # PostgreSQL text and jsonb refuse NUL
    assert _depth(orjson.loads(stored)) <= MAX_DEPTH
    assert MIN_YEAR <= _occurred_at(out).year <= MAX_YEAR
    assert datetime.fromisoformat(out["occurred_at"]).astimezone(UTC)


@FUZZ
@given(st.one_of(hostile_event(HIT), garbage))
def test_messages_are_rejected_with_a_reason_or_safe_to_store(raw: bytes) -> None:
    _check(raw)


@FUZZ
@given(hostile_value)
def test_decoded_values_in_an_unknown_field_are_checked_as_well(value: Any) -> None:
    # The API and the screen CLI hand over decoded values: NaN, 10**400 and surrogates included.
    _check({**HIT, "vendor": value})
