"""Prometheus metrics of Project Stone: alarms received (by category), links made, crossings
purged unlinked, correlation latency (exposed on /metrics by serve and by the workers)."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Histogram

ALARMS = Counter("failsafe_alarms_received_total", "Alarms recorded (new)", ["category"])
ALARMS_LINKED = Counter(
    "failsafe_alarms_linked_total", "Alarms linked to a crossing on arrival", ["category"]
)
ALARMS_INVALID = Counter(
    "failsafe_alarms_invalid_total", "Alarm messages rejected (dead-lettered or 4xx)", ["reason"]
)
LINKS = Counter(
    "failsafe_alarm_links_total", "Alarm-crossing links made, by the side that made them", ["by"]
)
PURGED = Counter(
    "failsafe_lane_crossings_purged_total",
    "Lane crossings deleted unlinked after the lateness window",
)
CORRELATION_SECONDS = Histogram(
    "failsafe_alarm_correlation_seconds",
    "Time to record one side, link it and build the alerts (until commit)",
    ["by"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)


def observe_alarm(alarm: dict[str, Any], links: int, seconds: float) -> None:
    for category in alarm.get("categories") or []:
        ALARMS.labels(category).inc()
        if links:
            ALARMS_LINKED.labels(category).inc()
    if links:
        LINKS.labels("alarm").inc(links)
    CORRELATION_SECONDS.labels("alarm").observe(seconds)
