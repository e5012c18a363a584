"""A real `failsafe ingest-alarms` process (real PostgreSQL and Kafka) is deployable like `ingest`:
it answers /healthz at once, /readyz 503 until it can work (here: until its database exists)
and 200 once consuming, exports `failsafe_ready` and the alarm metrics on its metrics port,
the image's probe module finds it healthy there, /readyz turns 503 when PostgreSQL goes away
while no alarm comes (and 200 when it is back), and SIGTERM stops it with exit 0. Topics
missing: exit 1 with the message naming them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable

import httpx2
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from failsafe.db import migrate
from tests import alarm_docs as docs
from tests.conftest import create_database, drop_database, scan_output, subprocess_log, unique_name
from tests.fixtures.app import free_port
from tests.fixtures.streams import alarm_stream_settings, alarm_worker_env, stream_settings
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.integration

WORKER = [sys.executable, "-m", "failsafe.cli", "ingest-alarms"]
PROBE = [sys.executable, "-m", "failsafe.healthcheck"]  # the image's HEALTHCHECK command


def _base_env() -> dict[str, str]:
    return {n: v for n, v in os.environ.items() if not n.startswith("FAILSAFE_")}


def _sample(exposition: str, series: str) -> float | None:
    """The value of one series (`name{labels}` exactly as exposed) in a /metrics text."""
    for line in exposition.splitlines():
        name, _, value = line.rpartition(" ")
        if name == series:
            return float(value)
    return None


async def test_the_alarm_worker_process_is_probed_and_monitored(
    pg_server: str, kafka_bootstrap: str, unique_topic: Callable[[str], str]
) -> None:
    # The database is created only once the process runs: until then it cannot be ready.
    name = unique_name("failsafe_t")
    url = f"{pg_server.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"
    settings = await alarm_stream_settings(url, kafka_bootstrap, unique_topic)
    port = free_port()
    cmd = [*WORKER, "--metrics-port", str(port)]
    with subprocess_log("ingest-alarms").open("ab") as err:  # the suite's log scan reads it
        proc = subprocess.Popen(cmd, env={**_base_env(), **alarm_worker_env(settings)}, stderr=err)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    try:
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as http:

            async def answers(path: str) -> httpx2.Response | None:
                assert proc.poll() is None, "ingest-alarms exited"
                with contextlib.suppress(httpx2.HTTPError):
                    return await http.get(path)
                return None

            # Alive (liveness asks nothing else) but not ready: its database does not exist.
            live = await eventually(lambda: answers("/healthz"), timeout=60, what="/healthz")
            assert live.status_code == 200 and live.json() == {"status": "ok"}
            unready = await http.get("/readyz")
            assert unready.status_code == 503 and unready.json() == {"status": "not_ready"}
            assert _sample((await http.get("/metrics")).text, "failsafe_ready") == 0.0
            assert (await http.get("/nothing")).status_code == 404

            await create_database(pg_server, name)
            await asyncio.to_thread(migrate.upgrade, url)

            async def ready() -> bool:
                r = await answers("/readyz")
                return r is not None and r.status_code == 200

            async def not_ready() -> bool:
                r = await answers("/readyz")
                return r is not None and r.status_code == 503

            await eventually(ready, timeout=60, interval=0.1, what="/readyz 200")
            assert (await http.get("/readyz")).json() == {"status": "ready"}

            # Consuming: an alarm sent now is recorded, and counted on this process's /metrics.
            await producer.start()
            alarm = docs.alarm_json(point="DEU-OPS-1", categories=["gamma", "neutron"])
            await producer.send_and_wait(
                settings.kafka.topics.alarms, orjson.dumps(alarm), key=b"a"
            )

            async def counted() -> str | None:
                text = (await http.get("/metrics")).text
                series = 'failsafe_alarms_received_total{category="neutron"}'
                return text if _sample(text, series) == 1.0 else None

            exposition = await eventually(counted, timeout=30, interval=0.1, what="alarm counted")
            assert _sample(exposition, 'failsafe_alarms_received_total{category="gamma"}') == 1.0
            series = 'failsafe_alarm_correlation_seconds_count{by="alarm"}'
            assert _sample(exposition, series) == 1.0
            assert _sample(exposition, "failsafe_ready") == 1.0
            assert 'failsafe_build_info{python="' in exposition
            # The image's probe, as compose and Kubernetes run it for this container.
            for path in ("/healthz", "/readyz"):
                probe = [*PROBE, "--port", str(port), "--path", path]
                done = await asyncio.to_thread(subprocess.run, probe, env=_base_env())
                assert done.returncode == 0, path

            # PostgreSQL gone while no alarm comes: not ready all the same (its probe), still
            # alive; ready again once the database answers.
            await drop_database(pg_server, name)
            await eventually(not_ready, timeout=30, interval=0.1, what="/readyz 503")
            assert _sample((await http.get("/metrics")).text, "failsafe_ready") == 0.0
            assert (await http.get("/healthz")).status_code == 200
            await create_database(pg_server, name)
            await eventually(ready, timeout=30, interval=0.1, what="/readyz 200 again")
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = await asyncio.to_thread(proc.wait, 30)
        await producer.stop()
        await drop_database(pg_server, name)
    assert rc == 0
    # Stopped: the endpoint is gone, and the probe says so.
    probe = [*PROBE, "--port", str(port)]
    gone = await asyncio.to_thread(subprocess.run, probe, env=_base_env(), capture_output=True)
    assert gone.returncode == 1


async def test_missing_topics_stop_the_process_with_exit_1_and_their_names(
    fresh_pg_url: str, kafka_bootstrap: str, unique_topic: Callable[[str], str]
) -> None:
    settings = stream_settings(fresh_pg_url, kafka_bootstrap, unique_topic)
    settings.kafka.topics.alarms = unique_topic("alarms")
    settings.kafka.topics.alarms_dlq = unique_topic("alarms-dlq")  # none of them created
    cmd = [*WORKER, "--metrics-port", str(free_port())]
    done = await asyncio.to_thread(
        subprocess.run,
        cmd,
        env={**_base_env(), **alarm_worker_env(settings)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    scan_output("ingest-alarms", done.stderr)
    assert done.returncode == 1, done.stderr
    assert "Kafka topic(s) missing: " in done.stderr
    assert settings.kafka.topics.alarms in done.stderr
    assert "failsafe kafka create-topics" in done.stderr
