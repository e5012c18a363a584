"""`failsafe screen` end to end through the main CLI, with bad lines in both inputs: events are
validated as the API and the worker do, and an unusable watchlist is refused (exit 2)."""

from __future__ import annotations

import gc
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from failsafe.cli import app

WATCHLIST = [
    b'{"id": "e1", "status": "active", "subject": {"surname": "PETROV", "given_names": "IVAN",'
    b' "date_of_birth": "1970-03", "documents": [{"number": "753123456",'
    b' "issuing_state": "RUS"}]}}',
    b"this is not json",
    b'{"id": "e2", "status": "cancelled", "subject": {"surname": "KOWALSKI",'
    b' "given_names": "JAN"}}',
    b'{"id": "e3", "subject": {"surname": "ERIKSSON", "given_names": "ANNA MARIA",'
    b' "date_of_birth": "1974-08-12"}}',
]
# What every event line carries besides the traveller (the schema requires kind and occurred_at).
_ENVELOPE = b'"kind": "border_crossing", "occurred_at": "2026-11-27T10:22:05+01:00", '
EVENTS = [
    b'{"event_id": "a", ' + _ENVELOPE + b'"traveller": {"surname": "PETROV",'
    b' "given_names": "IVAN", "date_of_birth": "1970-03-14"}}',
    b'{"event_id": "b", ' + _ENVELOPE + b'"traveller": {"surname": "Kowalski",'
    b' "given_names": "Jan"}}',
    b"{broken",
    b"",
    b'{' + _ENVELOPE + b'"traveller": {"surname": "PETROV"}}',
    b'{"event_id": "d", ' + _ENVELOPE + b'"traveller": {}, "mrz":'
    b' ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",'
    b' "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]}',
    b'{"event_id": "e", ' + _ENVELOPE + b'"traveller": {"full_name": "Nobody"}, "document":'
    b' {"number": "753-123-456", "issuing_state": "RUS"}}',
    # Valid JSON, but not an event the API would take: an unknown kind, a NUL, no occurred_at.
    b'{"event_id": "f", "kind": "teleport", "occurred_at": "2026-11-27T10:22:05+01:00",'
    b' "traveller": {"surname": "PETROV", "given_names": "IVAN"}}',
    b'{"event_id": "g", ' + _ENVELOPE + b'"traveller": {"surname": "PETROV\\u0000",'
    b' "given_names": "IVAN"}}',
    b'{"event_id": "h", "kind": "border_crossing", "traveller": {"surname": "PETROV"}}',
]


def run(
    tmp_path: Path, *extra: str, stdin: bytes | None = None, watchlist: list[bytes] = WATCHLIST
) -> tuple[int, list[dict], str]:
    wl = tmp_path / "wl.jsonl"
    wl.write_bytes(b"\n".join(watchlist) + b"\n")
    ev = tmp_path / "ev.jsonl"
    ev.write_bytes(b"\n".join(EVENTS) + b"\n")
    args = ["screen", "--watchlist", str(wl), *extra]
    if stdin is None:
        args += ["--events", str(ev)]
    result = CliRunner().invoke(app, args, input=stdin)
    lines = [orjson.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    return result.exit_code, lines, result.stderr


def test_one_line_per_event_in_order_with_errors_reported(tmp_path: Path) -> None:
    code, lines, err = run(tmp_path)
    assert [x.get("event_id") for x in lines] == ["a", "b", None, None, "d", "e", "f", "g", "h"]
    assert lines[0]["matches"][0]["entry_id"] == "e1"
    assert lines[0]["matches"][0]["method"] == "name_dob"
    assert lines[1]["matches"] == []  # e2 is cancelled
    assert lines[2]["line"] == 3 and lines[2]["error"].startswith("not JSON")
    assert lines[3]["error"] == "schema violation: event_id: missing"
    assert "matches" not in lines[3]
    assert lines[4]["matches"][0]["entry_id"] == "e3"  # name and DOB from the MRZ
    assert lines[5]["matches"][0]["method"] == "document"
    # Rejected as POST /v1/events and the worker reject them, with the same reasons.
    assert lines[6] == {"event_id": "f", "line": 8,
                        "error": "schema violation: kind: literal_error"}
    assert lines[7] == {"event_id": "g", "line": 9, "error": "NUL character: traveller.surname"}
    assert lines[8]["error"] == "schema violation: occurred_at: missing"
    assert "wl.jsonl:2: invalid JSON" in err
    assert "ev.jsonl:3: not JSON" in err
    assert "ev.jsonl:5: schema violation: event_id: missing" in err
    assert "ev.jsonl:8: schema violation: kind: literal_error" in err
    assert "ev.jsonl:9: NUL character: traveller.surname" in err
    assert "ev.jsonl:10: schema violation: occurred_at: missing" in err
    assert "PETROV" not in err and "ERIKSSON" not in err  # no personal data on stderr
    assert code == 1


@pytest.mark.parametrize(
    "watchlist",
    [
        pytest.param([], id="empty"),
        pytest.param([b"not json", b'{"subject": {"surname": "X"}}'], id="every line bad"),
        pytest.param([WATCHLIST[2]], id="nothing active"),
    ],
)
def test_an_unusable_watchlist_is_refused_not_screened(
    tmp_path: Path, watchlist: list[bytes]
) -> None:
    code, lines, err = run(tmp_path, watchlist=watchlist)
    assert code == 2
    assert lines == []  # not one "matches": [] that would read as all clear
    assert "error: no usable watchlist entry in" in err
    assert "refusing to screen" in err


def test_stdin_threshold_and_limit(tmp_path: Path) -> None:
    event = (b'{"event_id": "a", ' + _ENVELOPE + b'"traveller": {"surname": "PETROV",'
             b' "given_names": "IVAN", "date_of_birth": "1970-03-14"}}\n')
    code, lines, _ = run(tmp_path, "--threshold", "0.99", stdin=event)
    assert code == 1  # the watchlist has a bad line
    assert lines == [{"event_id": "a", "matches": []}]
    _, lines, _ = run(tmp_path, "--limit", "1", stdin=event)
    assert len(lines[0]["matches"]) == 1
    match = lines[0]["matches"][0]
    assert set(match) == {"entry_id", "score", "method", "explanation"}
    core = {"feature", "score", "query", "candidate"}
    assert all(set(x) == core for x in match["explanation"] if x["feature"] != "date_of_birth")
    (dob,) = (x for x in match["explanation"] if x["feature"] == "date_of_birth")
    assert set(dob) == core | {"agreement", "detail"}


def test_the_loaded_index_is_kept_out_of_the_collectors_walks(tmp_path: Path) -> None:
    # A batch run loads once and then only screens: the index is frozen (gc.freeze) and the
    # collector turned off (screening makes no reference cycles: test_screening_gc.py), so the
    # first pass does not walk the index and its caches (docs/matching.md).
    assert gc.get_freeze_count() == 0
    assert gc.isenabled()
    code, lines, _ = run(tmp_path)
    assert code == 1 and len(lines) == 9
    assert gc.get_freeze_count() > 0
    assert not gc.isenabled()
