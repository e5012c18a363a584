"""An event's `traveller.date_of_birth` follows the one date grammar (failsafe.kit.codes):
unpadded and `00` forms are normalised, anything else is rejected with a reason naming the field
and the kind of error, never the value."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from failsafe.errors import InvalidEvent
from failsafe.ingest.events import Event, parse_event

BASE: dict[str, Any] = {
    "event_id": "ev-dob",
    "kind": "border_crossing",
    "occurred_at": "2026-11-27T10:22:05+01:00",
    "traveller": {"surname": "ERIKSSON", "given_names": "ANNA MARIA"},
}


def with_dob(value: object) -> bytes:
    return orjson.dumps({**BASE, "traveller": {**BASE["traveller"], "date_of_birth": value}})


@pytest.mark.parametrize(
    ("given", "screened"),
    [
        ("1969-06-16", "1969-06-16"),
        ("1969-6-16", "1969-06-16"),
        ("1969-07", "1969-07"),
        ("1969", "1969"),
        ("1966-00-00", "1966"),
        (" 1974-8-2 ", "1974-08-02"),
    ],
)
def test_dates_are_read_in_one_grammar_and_normalised(given: str, screened: str) -> None:
    event = parse_event(with_dob(given)).to_json_dict()
    assert event["traveller"]["date_of_birth"] == screened


@pytest.mark.parametrize(
    ("given", "kind"),
    [
        ("16.06.1969", "date_format"),
        ("1969-06-16T00:00:00", "date_format"),
        ("69-06-16", "date_format"),
        ("1969-02-30", "date_value"),
        ("1969-13", "date_value"),
        (19690616, "string_type"),
    ],
)
def test_an_unreadable_date_rejects_the_event_with_a_reason(given: object, kind: str) -> None:
    with pytest.raises(InvalidEvent) as info:
        parse_event(with_dob(given))
    assert info.value.message == f"schema violation: traveller.date_of_birth: {kind}"
    assert str(given) not in info.value.message


def test_openapi_shows_the_grammar() -> None:
    schema = Event.model_json_schema()
    dob = str(schema["$defs"]["Traveller"]["properties"]["date_of_birth"])
    assert "[0-9]{4}(-[0-9]{1,2}(-[0-9]{1,2})?)?" in dob


@pytest.mark.parametrize("blank", ["", "   ", None, "0000", "0000-00-00"])
def test_a_blank_date_is_no_date_and_the_event_is_screened(blank: str | None) -> None:
    # Senders write "" for "not known": rejecting the event would leave the traveller unscreened.
    event = parse_event(with_dob(blank)).to_json_dict()
    assert "date_of_birth" not in event["traveller"]
