"""The correlation rules as functions: the widened window, lane neighbours (configured per point,
symmetric; numeric otherwise) and the link confidences."""

from __future__ import annotations

from datetime import timedelta

from failsafe.alarms.rules import Rules
from failsafe.settings import AlarmSettings
from tests.alarm_docs import T0, alarm_json


def test_window_is_the_occupancy_widened_by_the_tolerance() -> None:
    rules = Rules(AlarmSettings(tolerance_before_s=10, tolerance_after_s=20))
    start, end = rules.window(alarm_json(start=T0, seconds=13))
    assert (start, end) == (T0 - timedelta(seconds=10), T0 + timedelta(seconds=33))
    no_occupancy = alarm_json()
    del no_occupancy["occupancy"]
    at = T0 + timedelta(seconds=7)  # occurred_at
    assert rules.window(no_occupancy) == (at - timedelta(seconds=10), at + timedelta(seconds=20))


def test_neighbours_configured_per_point_or_numeric() -> None:
    rules = Rules(AlarmSettings(adjacent_lanes={"P1": {"T1": ["T2"], "T3": ["T2"]}}))
    assert rules.neighbours("P1", "T2") == {"T1", "T3"}  # symmetric
    assert rules.neighbours("P1", "T1") == {"T2"}
    assert rules.neighbours("P1", "3") == set()  # the point's own map only
    assert rules.neighbours("P2", "3") == {"2", "4"}
    assert rules.neighbours("P2", "1") == {"2"}
    assert rules.neighbours("P2", "A") == set()


def test_link_confidence() -> None:
    settings = AlarmSettings()
    rules = Rules(settings)
    alarm = alarm_json(point="P2", lane="3", start=T0, seconds=13)
    inside = T0 + timedelta(seconds=5)
    margin = T0 + timedelta(seconds=13 + 59)
    assert rules.link(alarm, "3", inside) == ("same_lane", 1.0)
    assert rules.link(alarm, "3", margin) == ("same_lane", settings.margin_confidence)
    assert rules.link(alarm, "4", inside) == ("adjacent_lane", settings.adjacent_factor)
    assert rules.link(alarm, "5", inside) is None
    assert rules.link(alarm, "3", T0 + timedelta(seconds=13 + 61)) is None
    handheld = alarm_json(point="P2", lane=None)
    assert rules.link(handheld, "6", inside) == ("point", 0.5)
