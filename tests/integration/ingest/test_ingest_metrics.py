"""The worker's metrics: the event-to-alert latency (failsafe_event_to_alert_seconds) runs from
the event's Kafka record timestamp, so time spent waiting in the topic counts, not only the
batch's own; a `failsafe ingest` process exports its readiness and build on its metrics port,
where the image's probe finds it healthy."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time

import httpx2
import orjson
import pytest
from prometheus_client import REGISTRY

from failsafe.ingest.worker import IngestWorker
from tests.conftest import subprocess_log
from tests.fixtures.app import free_port
from tests.fixtures.factories import entry_doc, event, put_entry
from tests.fixtures.streams import Env, loaded, worker_env

pytestmark = pytest.mark.integration


def observed() -> tuple[float, float]:
    count = REGISTRY.get_sample_value("failsafe_event_to_alert_seconds_count") or 0.0
    total = REGISTRY.get_sample_value("failsafe_event_to_alert_seconds_sum") or 0.0
    return count, total


async def test_latency_counts_from_the_record_timestamp(env: Env, worker: IngestWorker) -> None:
    await put_entry(env.sessions, entry_doc("OKONKWO", "CHIDI", dob="1975-06", owner="FRA"))
    await loaded(worker)
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


async def test_the_worker_process_exports_readiness_and_build_info(env: Env) -> None:
    child_env = {
        **{n: v for n, v in os.environ.items() if not n.startswith("FAILSAFE_")},
        **worker_env(env.settings),
    }
    port = free_port()
    cmd = [sys.executable, "-m", "failsafe.cli", "ingest", "--metrics-port", str(port)]
    with subprocess_log("ingest").open("ab") as err:  # the suite's log scan reads it
        proc = subprocess.Popen(cmd, env=child_env, stderr=err)
    try:
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as http:
            async with asyncio.timeout(60):
                while True:
                    assert proc.poll() is None, "ingest exited"
                    with contextlib.suppress(httpx2.HTTPError):
                        if (await http.get("/readyz")).status_code == 200:
                            break
                    await asyncio.sleep(0.1)  # polling another process's readiness
            exposition = (await http.get("/metrics")).text
        assert "\nfailsafe_ready 1.0\n" in exposition
        assert 'failsafe_build_info{python="' in exposition
        # The image's probe for an ingest container answers healthy.
        probe = [sys.executable, "-m", "failsafe.healthcheck", "--port", str(port)]
        assert (await asyncio.to_thread(subprocess.run, probe, env=child_env)).returncode == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 30) == 0
