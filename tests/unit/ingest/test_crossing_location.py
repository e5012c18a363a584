"""Issue 14 in the event contract: `crossing.location: {lat, lon}` is optional, kept by every entry
point (the shared parser behind Kafka and POST /v1/events, and `failsafe screen`, whose fast path
hands an event with it to that parser), and a bad one is a clear rejection naming the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from failsafe.cli import app
from failsafe.errors import InvalidEvent
from failsafe.ingest.events import parse_event
from failsafe.screening_events import fast_event


def _event(location: Any = None) -> dict[str, Any]:
    crossing: dict[str, Any] = {"point": "DEU-POL-A12", "mode": "road", "direction": "entry"}
    if location is not None:
        crossing["location"] = location
    return {
        "schema": "failsafe.event/v1",
        "event_id": "loc-1",
        "kind": "border_crossing",
        "occurred_at": "2026-11-27T10:22:05+01:00",
        "country": "DEU",
        "crossing": crossing,
        "traveller": {"surname": "MUELLER", "given_names": "HANS", "date_of_birth": "1970-03-14"},
    }


def test_location_is_parsed_and_kept() -> None:
    out = parse_event(orjson.dumps(_event({"lat": 52.35, "lon": 14.55}))).to_json_dict()
    assert out["crossing"]["location"] == {"lat": 52.35, "lon": 14.55}
    assert "location" not in parse_event(orjson.dumps(_event())).to_json_dict()["crossing"]


@pytest.mark.parametrize(
    ("location", "path"),
    [
        ({"lat": 91, "lon": 0}, "crossing.location.lat"),
        ({"lat": 0, "lon": -180.5}, "crossing.location.lon"),
        ({"lat": "north", "lon": 0}, "crossing.location.lat"),
        ({"lon": 10}, "crossing.location.lat"),
        ("52.3,14.5", "crossing.location"),
    ],
)
def test_bad_location_is_a_clear_rejection(location: Any, path: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        parse_event(orjson.dumps(_event(location)))
    assert path in caught.value.message
    assert "north" not in caught.value.message  # the reason names checks, never values


def test_screen_cli_accepts_a_location(tmp_path: Path) -> None:
    line = orjson.dumps(_event({"lat": 52.35, "lon": 14.55}))
    assert fast_event(line) is None  # the fast path defers to the schema for it
    watchlist = tmp_path / "w.jsonl"
    watchlist.write_bytes(
        b'{"id": "e1", "status": "active", "subject": {"surname": "MUELLER", "given_names":'
        b' "HANS", "date_of_birth": "1970-03-14"}}\n'
    )
    events = tmp_path / "e.jsonl"
    events.write_bytes(line + b"\n")
    result = CliRunner().invoke(
        app, ["screen", "--watchlist", str(watchlist), "--events", str(events)]
    )
    assert result.exit_code == 0, result.output
    assert [m["entry_id"] for m in orjson.loads(result.stdout.splitlines()[0])["matches"]] == ["e1"]
