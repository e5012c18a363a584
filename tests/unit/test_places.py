"""The dashboard map's places (failsafe.alerts.places): the settings' crossing-point table wins
over the event's own `crossing.location`; unknown airports are listed, not placed."""

from __future__ import annotations

import pytest

from failsafe.alerts.places import stops
from failsafe.settings import GeoPoint, Settings


def test_the_settings_table_places_a_point_before_the_event() -> None:
    event = {"kind": "border_crossing", "country": "DEU",
             "crossing": {"point": "DEU-POL-A12", "location": {"lat": 1.0, "lon": 2.0}}}
    (stop,) = stops(event, {"DEU-POL-A12": GeoPoint(lat=52.35, lon=14.55)})
    assert (stop.lat, stop.lon, stop.label) == (52.35, 14.55, "DEU-POL-A12, Germany")
    (stop,) = stops(event, {})
    assert (stop.lat, stop.lon) == (1.0, 2.0)


def test_unknown_airports_are_listed_without_a_place() -> None:
    event = {"kind": "travel_booking", "flight": {"origin": "ZZZ", "destination": "CDG"}}
    first, last = stops(event, {})
    assert first.label == "ZZZ (unknown airport)" and first.lat is None
    assert last.label.endswith("(CDG), France") and last.lat is not None


def test_the_table_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "FAILSAFE_DASHBOARD__CROSSING_POINTS", '{"DEU-POL-A12": {"lat": 52.35, "lon": 14.55}}'
    )
    assert Settings().dashboard.crossing_points["DEU-POL-A12"].lon == 14.55
