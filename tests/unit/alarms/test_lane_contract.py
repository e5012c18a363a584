"""Issue 12 in the event contract: `crossing.lane` and `crossing.vehicle` are optional, kept by
every entry point (the shared parser behind Kafka and POST /v1/events, and `failsafe screen`),
and checked like every other field."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from failsafe.cli import app
from failsafe.errors import InvalidEvent
from failsafe.ingest.events import parse_event
from tests.alarm_docs import crossing


def test_lane_and_vehicle_are_parsed_and_kept() -> None:
    ev = crossing(lane=" 3 ", plate="B-XY 1234")
    ev["crossing"]["vehicle"]["container"] = "MSCU1234565"
    ev["crossing"]["vehicle"]["axles"] = 5  # unknown fields travel along
    out = parse_event(orjson.dumps(ev)).to_json_dict()
    assert out["crossing"]["lane"] == "3"
    assert out["crossing"]["vehicle"] == {
        "plate": "B-XY 1234",
        "container": "MSCU1234565",
        "axles": 5,
    }
    no_lane = parse_event(orjson.dumps(crossing(lane=None))).to_json_dict()
    assert "lane" not in no_lane["crossing"]


@pytest.mark.parametrize(
    ("patch", "path"),
    [
        ({"lane": ""}, "crossing.lane"),
        ({"lane": "x" * 17}, "crossing.lane"),
        ({"lane": 3}, "crossing.lane"),
        ({"vehicle": {"plate": "P" * 33}}, "crossing.vehicle.plate"),
        ({"vehicle": "B-XY 1234"}, "crossing.vehicle"),
    ],
)
def test_bad_lane_or_vehicle_is_a_clear_rejection(patch: dict[str, object], path: str) -> None:
    ev = crossing()
    ev["crossing"].update(patch)
    with pytest.raises(InvalidEvent) as caught:
        parse_event(orjson.dumps(ev))
    assert path in caught.value.message


def test_screen_cli_accepts_lane_and_vehicle(tmp_path: Path) -> None:
    watchlist = tmp_path / "w.jsonl"
    watchlist.write_bytes(
        b'{"id": "e1", "status": "active", "subject": {"surname": "MUELLER", "given_names":'
        b' "HANS", "date_of_birth": "1970-03-14"}}\n'
    )
    events = tmp_path / "e.jsonl"
    events.write_bytes(orjson.dumps(crossing(event_id="lane-1")) + b"\n")
    result = CliRunner().invoke(
        app, ["screen", "--watchlist", str(watchlist), "--events", str(events)]
    )
    assert result.exit_code == 0, result.output
    line = orjson.loads(result.stdout.splitlines()[0])
    assert line["event_id"] == "lane-1" and [m["entry_id"] for m in line["matches"]] == ["e1"]
