"""The worker's event-to-alert latency (failsafe_event_to_alert_seconds) runs from the event's
Kafka record timestamp, so time spent waiting in the topic counts, not only the batch's own."""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest
from prometheus_client import REGISTRY

from failsafe.ingest.worker import IngestWorker
from tests.factories import entry_doc, event, put_entry
from tests.integration.ingest.test_worker import Env, env, worker

pytestmark = pytest.mark.integration
__all__ = ["env", "worker"]  # the fixtures, shared with test_worker


def observed() -> tuple[float, float]:
    count = REGISTRY.get_sample_value("failsafe_event_to_alert_seconds_count") or 0.0
    total = REGISTRY.get_sample_value("failsafe_event_to_alert_seconds_sum") or 0.0
    return count, total


async def test_latency_counts_from_the_record_timestamp(env: Env, worker: IngestWorker) -> None:
    await put_entry(env.sessions, entry_doc("OKONKWO", "CHIDI", dob="1975-06", owner="FRA"))
    async with asyncio.timeout(10):
        while worker._follower is None or not worker._follower.entries:
            await asyncio.sleep(0.05)  # the follower polls the watchlist revision
    count, total = observed()
    hit = event("OKONKWO", "CHIDI", dob="1975-06-01", country="DEU")
    # Produced "30 s ago": as if it had waited in the topic behind a backlog.
    stamp = int(time.time() * 1000) - 30_000
    await env.producer.send_and_wait(
        env.settings.kafka.topics.events, orjson.dumps(hit), key=b"k", timestamp_ms=stamp
    )
    await env.wait_alerts(1)
    async with asyncio.timeout(10):
        while observed()[0] < count + 1:
            await asyncio.sleep(0.05)  # observed right after the publication
    new_count, new_total = observed()
    assert new_count == count + 1
    assert 30 <= new_total - total < 60
