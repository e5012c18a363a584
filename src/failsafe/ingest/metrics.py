"""Prometheus metrics of the ingest pipeline (exposed on /metrics by serve and by ingest)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_CONSUMED = Counter("failsafe_events_consumed_total", "Events read from a source")
EVENTS_INVALID = Counter(
    "failsafe_events_invalid_total", "Events rejected to the dead-letter topic", ["reason"]
)
HITS = Counter("failsafe_hits_total", "Screening matches at or above the threshold")
ALERTS_CREATED = Counter("failsafe_alerts_created_total", "Alerts newly created")
ALERTS_PUBLISHED = Counter("failsafe_alerts_published_total", "Alerts published (incl. replays)")
BATCH_SECONDS = Histogram(
    "failsafe_ingest_batch_seconds",
    "Time to validate, screen, persist and publish one batch",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CONSUMER_LAG = Gauge(
    "failsafe_consumer_lag", "Messages behind the end of the partition", ["topic", "partition"]
)
RETRIES = Counter("failsafe_ingest_retries_total", "Batches retried after a failure", ["cause"])
WATCHLIST_REVISION = Gauge("failsafe_watchlist_revision", "Watchlist revision applied")
