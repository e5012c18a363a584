"""`failsafe screen`'s watchlist reader (`load_watchlist`) on a file of broken lines: every bad
line is reported with its number and the same reason as before the build was made faster (the
hand-checked date path, the cached name normalisation), inactive lines are skipped, and the
good neighbours are indexed with their dates. Loaded twice: the second load runs on warm caches
and must answer the same."""

from __future__ import annotations

import orjson

from failsafe.matching import WatchlistIndex
from failsafe.screening import load_watchlist


def _line(eid: object, subject: object, **top: object) -> bytes:
    return orjson.dumps({"id": eid, "subject": subject, **top})


def _doe(**dates: object) -> bytes:
    return _line(dates.pop("eid"), {"surname": "DOE", **dates})


LINES = [
    _line("g1", {"surname": "PETROV", "given_names": "IVAN", "date_of_birth": "1970-3-4"}),
    b'{"id": "b1", "subject": {"surname": "X"',
    b"",
    b"   ",
    b"[1, 2]",
    b'"text"',
    b'{"subject": {"surname": "NOID"}}',
    _line("", {"surname": "EMPTYID"}),
    _line(None, {"surname": "NULLID"}),
    _doe(eid="b2", date_of_birth="1970-02-30"),
    _doe(eid="b3", date_of_birth="19700101"),
    _doe(eid="b4", dates_of_birth=[""]),
    _doe(eid="b5", dates_of_birth="1970"),
    _doe(eid="b6", dates_of_birth=[{"circa": 1700}]),
    _doe(eid="b7", dates_of_birth=[{"from": 1980, "to": 1970}]),
    _doe(eid="b8", date_of_birth=1970),
    _doe(eid="b9", dates_of_birth=[str(y) for y in range(1950, 1961)]),  # 11: too many
    _doe(eid="b10", date_of_birth="\u0661\u0669\u0667\u0660"),  # Arabic-Indic digits
    _line("s1", {"surname": "GONE"}, status="cancelled"),
    _line("s2", {"surname": "OLD"}, notice={"expires_at": "2001-01-01T00:00:00Z"}),
    _line("s3", {"surname": 5}),
    _line("g2", {"surname": "KOWALSKA", "given_names": "ANNA", "date_of_birth": " 0000-00-00 ",
                 "dates_of_birth": ["1969-6", {"circa": 1970}]}),
    _line("g3", "not a mapping"),
    _line(17, {"full_name": "DOE, John", "date_of_birth": "1966-00-00"}),
]

EXPECTED_ERRORS = [
    "wl.jsonl:2: invalid JSON",
    "wl.jsonl:5: not a JSON object",
    "wl.jsonl:6: not a JSON object",
    "wl.jsonl:7: missing id",
    "wl.jsonl:8: missing id",
    "wl.jsonl:9: missing id",
] + [f"wl.jsonl:{n}: invalid date of birth" for n in range(10, 19)]


def test_bad_lines_are_reported_by_number_and_the_good_ones_indexed() -> None:
    for _ in range(2):
        errors: list[str] = []
        ix = WatchlistIndex()
        stats = load_watchlist(ix, LINES, "wl.jsonl", err=errors.append)
        assert errors == EXPECTED_ERRORS
        assert (stats.lines, stats.ok, stats.bad, stats.skipped) == (22, 3, 15, 4)
        assert sorted(ix._entries) == ["17", "g1", "g2"]
        dates = {eid: [bd.text for bd in ix._entries[eid].dobs] for eid in ix._entries}
        assert dates == {"17": ["1966"], "g1": ["1970-03-04"], "g2": ["1969-06", "circa 1970"]}
