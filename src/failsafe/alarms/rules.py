"""The correlation rules of the `alarms` settings as pure functions (no I/O): an alarm's
occupancy window widened by the tolerance, the lanes next to a lane (configured per point, else
numeric neighbours), the relation and confidence of a crossing in that window, and the severity of
an alarm's alert from its nuclides and the watchlist hits it links to. failsafe.alarms.correlation
applies them in the database; failsafe.alarms.evidence builds the alert with them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from failsafe.settings import AlarmSettings


def instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromisoformat(str(value)).astimezone(UTC)



def is_nuclear_case(category: str | None) -> bool:
    c = (category or "").lower()
    return "nuclear" in c or "radiolog" in c or c in {"cbrn", "cbrne"}


@dataclass(frozen=True)
class Rules:
    """The correlation rules of the settings, as functions."""

    settings: AlarmSettings

    def window(self, alarm: dict[str, Any]) -> tuple[datetime, datetime]:
        occ = alarm.get("occupancy") or {}
        start = instant(occ["start"]) if occ else instant(alarm["occurred_at"])
        end = instant(occ["end"]) if occ else instant(alarm["occurred_at"])
        return (
            start - timedelta(seconds=self.settings.tolerance_before_s),
            end + timedelta(seconds=self.settings.tolerance_after_s),
        )

    def neighbours(self, point: str, lane: str) -> set[str]:
        configured = self.settings.adjacent_lanes.get(point)
        if configured is not None:
            out = set(configured.get(lane, []))
            # Symmetric: lane 4 next to 3 means 3 next to 4.
            out |= {other for other, near in configured.items() if lane in near}
            out.discard(lane)
            return out
        if lane.isdigit():
            n = int(lane)
            return {str(n - 1), str(n + 1)} - {"0", str(-1)}
        return set()

    def link(
        self, alarm: dict[str, Any], crossing_lane: str, at: datetime
    ) -> tuple[str, float] | None:
        """(relation, confidence) of a crossing in `crossing_lane` at `at`, or None."""
        start, end = self.window(alarm)
        if not start <= at <= end:
            return None
        occ = alarm.get("occupancy") or {}
        inside = bool(occ) and instant(occ["start"]) <= at <= instant(occ["end"])
        confidence = 1.0 if inside else self.settings.margin_confidence
        lane = alarm.get("lane")
        if lane is None:
            return "point", round(confidence * self.settings.adjacent_factor, 4)
        if crossing_lane == lane:
            return "same_lane", confidence
        if crossing_lane in self.neighbours(str(alarm["point"]), lane):
            return "adjacent_lane", round(confidence * self.settings.adjacent_factor, 4)
        return None


def alarm_severity(
    alarm: dict[str, Any], hit_categories: Sequence[str | None], settings: AlarmSettings
) -> str:
    """critical: a neutron alarm, an SNM nuclide, or a hit whose case is nuclear/radiological;
    low: every nuclide a confident medical or NORM identification, and no hit; otherwise high
    with a hit or an industrial or unknown nuclide, else medium."""
    categories = set(alarm.get("categories") or [])
    nuclides = alarm.get("nuclides") or []
    if (
        "neutron" in categories
        or any(n.get("category") == "snm" for n in nuclides)
        or any(is_nuclear_case(c) for c in hit_categories)
    ):
        return "critical"
    if hit_categories:
        return "high"
    if nuclides and all(
        n.get("category") in ("medical", "norm")
        and (n.get("confidence") or 0.0) >= settings.confident_identification
        for n in nuclides
    ):
        return "low"
    if any(n.get("category") in ("industrial", "unknown") for n in nuclides):
        return "high"
    return "medium"

