"""`failsafe screen`'s cheap event check (`failsafe.screening_events.fast_event`) is never looser
than the event schema: whatever it takes, `parse_event` takes too, and the screening query (and
the MRZ reading) made from either is the same. Whatever it passes over still gets the schema's
own answer."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as event_kind
from hypothesis import strategies as st

from failsafe.errors import InvalidEvent
from failsafe.ingest.events import parse_event
from failsafe.matching import WatchlistIndex, apply_mrz
from failsafe.matching.types import query_from_event
from failsafe.screening import screen_lines
from failsafe.screening_events import fast_event

GOOD: dict[str, Any] = {
    "event_id": "e1",
    "kind": "border_crossing",
    "occurred_at": "2026-11-27T10:22:05+01:00",
    "country": "DEU",
    "crossing": {"point": "DEU-FRA-T1", "mode": "air", "direction": "entry"},
    "traveller": {"surname": "DOE", "given_names": "JOHN", "date_of_birth": "1969-6-16",
                  "sex": "M", "nationality": "USA"},
    "document": {"type": "P", "number": "X1234567", "issuing_state": "USA"},
}


def _screened(d: dict[str, Any]) -> tuple[Any, list[str]]:
    flags: list[str] = []
    if d.get("mrz"):
        d, flags = apply_mrz(d)
    return query_from_event(d), flags


def test_the_common_shape_takes_the_cheap_path_and_reads_the_same() -> None:
    line = orjson.dumps(GOOD)
    fast = fast_event(line)
    assert fast is not None
    assert fast["traveller"]["date_of_birth"] == "1969-06-16"  # the one grammar, padded
    assert _screened(fast) == _screened(parse_event(line).to_json_dict())


@pytest.mark.parametrize("change", [
    {"kind": "arrival"},  # unknown kind
    {"schema": "failsafe.event/v2"},
    {"event_id": ""},
    {"occurred_at": "1899-12-31T23:00:00Z"},
    {"occurred_at": "1900-01-01T00:30:00+01:00"},  # 1899 in UTC
    {"occurred_at": "2026-02-30T10:00:00Z"},
    {"occurred_at": "2026-11-27T10:22:05"},  # no offset
    {"traveller": {"surname": "DOE", "date_of_birth": "1969-13-01"}},
    {"traveller": {"surname": "DOE", "date_of_birth": "16.06.1969"}},
    {"traveller": {"surname": "DOE\x00"}},
    {"traveller": {"surname": "D" * 201}},
    {"traveller": {"surname": "DOE", "sex": "MALE"}},
    {"traveller": {"surname": 7}},
    {"traveller": "DOE"},
    {"document": {"number": "X" * 33}},
    {"mrz": ["P<" * 23]},
    {"crossing": {"direction": "sideways"}},
    {"flight": {"transit": ["FRA"] * 17}},
])
def test_what_the_schema_refuses_is_not_taken(change: dict[str, Any]) -> None:
    line = orjson.dumps(GOOD | change)
    assert fast_event(line) is None
    with pytest.raises(InvalidEvent):
        parse_event(line)


def test_a_refused_line_gets_the_schemas_reason_and_its_neighbours_are_screened() -> None:
    index = WatchlistIndex()
    index.add_many([{"id": "w1", "subject": {"surname": "DOE", "given_names": "JOHN",
                                             "date_of_birth": "1969-06-16"}}])
    lines = [orjson.dumps(GOOD), orjson.dumps(GOOD | {"event_id": "e2", "kind": "arrival"}),
             orjson.dumps(GOOD | {"event_id": "e3"})]
    out: list[bytes] = []
    errors: list[str] = []
    stats = screen_lines(index, lines, out.append, err=errors.append)
    rows = [orjson.loads(x) for x in b"".join(out).splitlines()]
    assert [r["event_id"] for r in rows] == ["e1", "e2", "e3"]
    assert [m["entry_id"] for m in rows[0]["matches"]] == ["w1"]
    assert "error" in rows[1] and "matches" not in rows[1]
    assert rows[1]["error"].startswith("schema violation: kind")
    assert [m["entry_id"] for m in rows[2]["matches"]] == ["w1"]
    assert stats.bad == 1 and len(errors) == 1


_text = st.one_of(
    st.none(), st.text(max_size=6), st.sampled_from(["", " ", "DOE", " DEU", "de", "D", "USA ",
                                                      "\x00", "\ud800", "X" * 33, "A" * 201]),
    st.integers(), st.booleans(),
)
_date = st.one_of(
    _text, st.sampled_from(["1969", "1969-7", "1969-07-16", "1969-6-31", "0000-00-00", "1969-00",
                            " 1969-07-16\n", "1969-13", "٢٠٢٠", "1969-07-16\n", "0000"]),
    st.from_regex(r"[0-9]{4}(-[0-9]{1,2}(-[0-9]{1,2})?)?", fullmatch=True),
)
_stamp = st.one_of(
    _text,
    st.sampled_from(["2026-11-27T10:22:05+01:00", "2026-11-27T10:22:05Z", "1900-01-01T00:00:00Z",
                     "2200-12-31T23:59:59-01:00", "2026-11-27T24:00:00Z",
                     "2026-11-27T10:22:05.1234567Z", "2026-11-27 10:22:05Z",
                     "2026-11-27T10:22:05+24:00", "2026-11-27T10:22:60Z"]),
    st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})",
                  fullmatch=True),
)
_name = st.sampled_from(["DOE", "JOHN", "Ärzte-Müller", "李", "O'NEIL", "A" * 200, " DOE "])
_code = st.sampled_from(["USA", "DEU", "D", "usa", "XKX"])
# Each field: a value the schema takes, or (for a few fields of each event) anything.
_VALID: dict[tuple[str, ...], st.SearchStrategy[Any]] = {
    ("schema",): st.just("failsafe.event/v1"),
    ("event_id",): st.sampled_from(["e1", "x" * 128]),
    ("kind",): st.sampled_from(["border_crossing", "travel_booking"]),
    ("occurred_at",): st.sampled_from(["2026-11-27T10:22:05+01:00", "2026-11-27T10:22:05Z"]),
    ("source",): st.just("api"),
    ("country",): _code,
    ("traveller", "surname"): _name,
    ("traveller", "given_names"): _name,
    ("traveller", "full_name"): _name,
    ("traveller", "name_original"): _name,
    ("traveller", "sex"): st.sampled_from(["M", "F", "X"]),
    ("traveller", "nationality"): _code,
    ("traveller", "date_of_birth"): _date,
    ("document", "type"): st.sampled_from(["P", "ID"]),
    ("document", "number"): st.sampled_from(["X1234567", "L898902C3"]),
    ("document", "issuing_state"): _code,
    ("document", "expiry_date"): st.just("2030-01-01"),
    ("crossing", "point"): st.just("T1"),
    ("crossing", "direction"): st.sampled_from(["entry", "exit"]),
    ("flight", "origin"): st.just("CDG"),
    ("flight", "scheduled_departure"): _stamp,
    ("flight", "transit"): st.lists(st.just("FRA"), max_size=16),
    ("mrz",): st.sampled_from([["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
                                "L898902C36UTO7408122F1204159ZE184226B<<<<<10"], []]),
}
_ANY = st.one_of(_text, st.lists(_text, max_size=17), st.dictionaries(st.text(max_size=3), _text,
                                                                       max_size=2))


@st.composite
def _events(draw: st.DrawFn) -> dict[str, Any]:
    paths = list(_VALID)
    present = draw(st.lists(st.sampled_from(paths), unique=True, min_size=4))
    wild = draw(st.lists(st.sampled_from([*paths, ("traveller", "extra"), ("extra",),
                                          ("traveller",), ("document",)]),
                         unique=True, max_size=2))
    event: dict[str, Any] = {"event_id": "e1", "kind": "border_crossing",
                             "occurred_at": "2026-11-27T10:22:05Z", "traveller": {}}
    for path in [*present, *wild]:
        value = draw(_ANY if path in wild else _VALID[path])
        if len(path) == 1:
            event[path[0]] = value
        elif isinstance(event.setdefault(path[0], {}), dict):
            event[path[0]][path[1]] = value
    return event


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_events())
def test_never_looser_than_the_schema_and_the_same_query(event: dict[str, Any]) -> None:
    try:
        line = orjson.dumps(event)
    except TypeError:  # a lone surrogate: not even JSON
        return
    fast = fast_event(line)
    event_kind("cheap path" if fast is not None else "schema")
    if fast is None:
        return  # parse_event decides, as before
    parsed = parse_event(line)  # must not raise: the cheap check took it
    assert _screened(fast) == _screened(parsed.to_json_dict())
