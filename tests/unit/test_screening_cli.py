"""`failsafe screen` end to end through the main CLI, with bad lines in both inputs."""

from __future__ import annotations

from pathlib import Path

import orjson
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
EVENTS = [
    b'{"event_id": "a", "traveller": {"surname": "PETROV", "given_names": "IVAN",'
    b' "date_of_birth": "1970-03-14"}}',
    b'{"event_id": "b", "traveller": {"surname": "Kowalski", "given_names": "Jan"}}',
    b"{broken",
    b"",
    b'{"traveller": {"surname": "PETROV"}}',
    b'{"event_id": "d", "mrz": ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",'
    b' "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]}',
    b'{"event_id": "e", "traveller": {"full_name": "Nobody"}, "document":'
    b' {"number": "753-123-456", "issuing_state": "RUS"}}',
]


def run(tmp_path: Path, *extra: str, stdin: bytes | None = None) -> tuple[int, list[dict], str]:
    wl = tmp_path / "wl.jsonl"
    wl.write_bytes(b"\n".join(WATCHLIST) + b"\n")
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
    assert [x.get("event_id") for x in lines] == ["a", "b", None, None, "d", "e"]
    assert lines[0]["matches"][0]["entry_id"] == "e1"
    assert lines[0]["matches"][0]["method"] == "name_dob"
    assert lines[1]["matches"] == []  # e2 is cancelled
    assert lines[2] == {"event_id": None, "line": 3, "error": "invalid JSON"}
    assert lines[3]["error"] == "missing event_id" and "matches" not in lines[3]
    assert lines[4]["matches"][0]["entry_id"] == "e3"  # name and DOB from the MRZ
    assert lines[5]["matches"][0]["method"] == "document"
    assert "wl.jsonl:2: invalid JSON" in err
    assert "ev.jsonl:3: invalid JSON" in err
    assert "ev.jsonl:5: missing event_id" in err
    assert "PETROV" not in err and "ERIKSSON" not in err  # no personal data on stderr
    assert code == 1


def test_stdin_threshold_and_limit(tmp_path: Path) -> None:
    event = (b'{"event_id": "a", "traveller": {"surname": "PETROV", "given_names": "IVAN",'
             b' "date_of_birth": "1970-03-14"}}\n')
    code, lines, _ = run(tmp_path, "--threshold", "0.99", stdin=event)
    assert code == 1  # the watchlist has a bad line
    assert lines == [{"event_id": "a", "matches": []}]
    _, lines, _ = run(tmp_path, "--limit", "1", stdin=event)
    assert len(lines[0]["matches"]) == 1
    match = lines[0]["matches"][0]
    assert set(match) == {"entry_id", "score", "method", "explanation"}
    assert all(set(x) == {"feature", "score", "query", "candidate"}
               for x in match["explanation"])
