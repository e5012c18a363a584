"""`failsafe screen` reads dates of birth with the one grammar of the API and the event schema:
watchlist lines get `subject.dates_of_birth` (normalised, the shorthand first) before they reach
the index; a line with an unreadable date is reported by number and skipped, an event with one
gets an error line, and the good lines around them are screened."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

import failsafe.screening as screening
from failsafe.cli import app
from failsafe.matching import WatchlistIndex

WATCHLIST: list[dict[str, Any]] = [
    {
        "id": "w1",
        "subject": {"surname": "DOE", "given_names": "JOHN", "date_of_birth": "1969-06-16"},
    },
    {
        "id": "w2",
        "subject": {
            "surname": "PETROV",
            "given_names": "IVAN",
            "dates_of_birth": ["1985-2-1", {"circa": 1986}],
            "date_of_birth": "1985",
        },
    },
    {
        "id": "w3",
        "subject": {
            "surname": "KOWALSKA",
            "given_names": "ANNA",
            "dates_of_birth": [{"from": 1972, "to": 1960}],
        },
    },
    {
        "id": "w4",
        "subject": {"surname": "KOWALSKI", "given_names": "JAN", "date_of_birth": "1969-13-01"},
    },
    {"id": "w5", "subject": {"surname": "NOWAK", "given_names": "ADAM"}},
]
BASE: dict[str, Any] = {
    "kind": "border_crossing",
    "occurred_at": "2026-11-27T10:22:05+01:00",
    "country": "DEU",
    "crossing": {"point": "DEU-FRA-T1", "mode": "air", "direction": "entry"},
}
EVENTS: list[dict[str, Any]] = [BASE | e for e in [
    {
        "event_id": "unpadded",
        "traveller": {"surname": "DOE", "given_names": "JOHN", "date_of_birth": "1969-6-16"},
    },
    {
        "event_id": "dotted",
        "traveller": {"surname": "DOE", "given_names": "JOHN", "date_of_birth": "16.06.1969"},
    },
    {
        "event_id": "number",
        "traveller": {"surname": "DOE", "given_names": "JOHN", "date_of_birth": 19690616},
    },
    {"event_id": "none", "traveller": {"surname": "NOWAK", "given_names": "ADAM"}},
    {
        "event_id": "blank",
        "traveller": {"surname": "NOWAK", "given_names": "ADAM", "date_of_birth": ""},
    },
]]


def jsonl(items: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(x) + b"\n" for x in items)


def test_watchlist_lines_reach_the_index_with_their_dates_of_birth(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, Mapping[str, Any]] = {}
    real = screening.entry_from_dict

    def spy(d: Mapping[str, Any], now: Any = None) -> Any:
        seen[d["id"]] = d["subject"]
        return real(d)

    monkeypatch.setattr(screening, "entry_from_dict", spy)
    errors: list[str] = []
    stats = screening.load_watchlist(
        WatchlistIndex(), jsonl(WATCHLIST).splitlines(), "wl.jsonl", errors.append
    )
    assert (stats.ok, stats.bad) == (3, 2)
    assert errors == ["wl.jsonl:3: invalid date of birth", "wl.jsonl:4: invalid date of birth"]
    assert seen["w1"]["dates_of_birth"] == ["1969-06-16"]
    assert seen["w2"]["date_of_birth"] == "1985"
    assert seen["w2"]["dates_of_birth"] == ["1985", "1985-02-01", {"circa": 1986}]
    assert seen["w5"]["dates_of_birth"] == [] and seen["w5"]["date_of_birth"] is None
    assert seen["w1"]["surname"] == "DOE"  # the rest of the subject is untouched


def test_events_with_unreadable_dates_get_an_error_line(tmp_path: Path) -> None:
    wl, ev = tmp_path / "wl.jsonl", tmp_path / "ev.jsonl"
    wl.write_bytes(jsonl(WATCHLIST))
    ev.write_bytes(jsonl(EVENTS))
    result = CliRunner().invoke(app, ["screen", "--watchlist", str(wl), "--events", str(ev)])
    assert result.exit_code == 1
    out = [orjson.loads(x) for x in result.stdout.splitlines()]
    assert [o["event_id"] for o in out] == ["unpadded", "dotted", "number", "none", "blank"]
    # An unpadded date is the same date: JOHN DOE 1969-6-16 is the listed 1969-06-16.
    assert [m["entry_id"] for m in out[0]["matches"]] == ["w1"]
    assert out[1] == {
        "event_id": "dotted",
        "line": 2,
        "error": "schema violation: traveller.date_of_birth: date_format",
    }
    assert out[2] == {
        "event_id": "number",
        "line": 3,
        "error": "schema violation: traveller.date_of_birth: string_type",
    }
    assert [m["entry_id"] for m in out[3]["matches"]] == ["w5"]
    assert [m["entry_id"] for m in out[4]["matches"]] == ["w5"]  # "" is no date, not an error
    assert f"{ev}:2: schema violation: traveller.date_of_birth: date_format" in result.stderr
    assert "DOE" not in result.stderr and "1969" not in result.stderr.replace(str(ev), "")
