"""Two real `failsafe serve` processes on PostgreSQL and Kafka (unique topics), clients of four
bureaus on each: every alert reaches exactly the entitled bureaus on both replicas, in order, once
(even when published twice), and a status change made on one replica reaches sockets on both."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx2
import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from websockets.asyncio.client import ClientConnection

from failsafe.db.engine import create_engine, create_sessionmaker
from failsafe.hub.bus import KafkaAlertBus
from failsafe.settings import DatabaseSettings
from tests.integration.alerts.factories import (
    emit,
    fresh_database,
    make_entry,
    make_hit,
    make_token,
    open_stream,
    recv_json,
)

pytestmark = pytest.mark.integration

BUREAUS = ("FRA", "DEU", "ITA", "ESP")
FAILSAFE = str(Path(sys.executable).parent / "failsafe")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _create_topics(bootstrap: str, *names: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(n, 3, 1) for n in names])
    finally:
        await admin.close()


@contextlib.asynccontextmanager
async def serve_process(env: dict[str, str], port: int) -> AsyncIterator[str]:
    """`failsafe serve` as its own process; yields its base URL once /readyz answers 200."""
    proc = subprocess.Popen(
        [FAILSAFE, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx2.AsyncClient(base_url=base, timeout=2) as http, asyncio.timeout(60):
            while True:
                if proc.poll() is not None:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise RuntimeError(f"serve exited with {proc.returncode}: {err[-2000:]}")
                with contextlib.suppress(httpx2.HTTPError):
                    if (await http.get("/readyz")).status_code == 200:
                        break
                await asyncio.sleep(0.1)  # polling a separate process's readiness
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(proc.wait, 20)
        except subprocess.TimeoutExpired:
            proc.kill()
            await asyncio.to_thread(proc.wait, 10)
        if proc.stderr:
            proc.stderr.close()


async def _until(
    ws: ClientConnection, done: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    async with asyncio.timeout(30):
        while True:
            msg = await recv_json(ws, 30)
            out.append(msg)
            if done(msg):
                return out


async def test_two_replicas_deliver_exactly_to_entitled_bureaus(
    pg_server: str, kafka_bootstrap: str, unique_topic: Callable[[str], str]
) -> None:
    alerts_topic = unique_topic("failsafe.alerts.v1")
    events_topic = unique_topic("failsafe.events.v1")
    dlq_topic = unique_topic("failsafe.events.dlq.v1")
    await _create_topics(kafka_bootstrap, alerts_topic, events_topic, dlq_topic)
    async with fresh_database(pg_server) as url:
        engine = create_engine(DatabaseSettings(url=url, pool_size=5))
        sessions = create_sessionmaker(engine)
        bus = KafkaAlertBus(kafka_bootstrap, alerts_topic, "test-replicas")
        await bus.start()
        env = {
            **os.environ,
            "FAILSAFE_DATABASE__URL": url,
            "FAILSAFE_DATABASE__AUTO_MIGRATE": "false",
            "FAILSAFE_KAFKA__BOOTSTRAP_SERVERS": kafka_bootstrap,
            "FAILSAFE_KAFKA__TOPICS__ALERTS": alerts_topic,
            "FAILSAFE_KAFKA__TOPICS__EVENTS": events_topic,
            "FAILSAFE_KAFKA__TOPICS__EVENTS_DLQ": dlq_topic,
            "FAILSAFE_LOG_LEVEL": "WARNING",
        }
        try:
            tokens = {b: await make_token(sessions, "bureau", b) for b in BUREAUS}
            common = await make_entry(sessions, owner="FRA")
            restricted = await make_entry(
                sessions, owner="ESP", distribution={"mode": "restricted", "allow": ["DEU"]}
            )
            denied = await make_entry(
                sessions, owner="ITA", distribution={"mode": "all", "deny": ["DEU"]}
            )
            async with (
                serve_process(env, _free_port()) as base_a,
                serve_process(env, _free_port()) as base_b,
            ):
                clients: dict[tuple[str, str], ClientConnection] = {}
                for name, base in (("a", base_a), ("b", base_b)):
                    ws_url = base.replace("http://", "ws://") + "/v1/alerts/stream"
                    for bureau in BUREAUS:
                        ws = await open_stream(ws_url, tokens[bureau], since=None)
                        assert (await recv_json(ws))["type"] == "subscribed"
                        clients[(name, bureau)] = ws

                # A mix of routings, recorded and published as the ingest worker does.
                hits = []
                for country in ("DEU", "ITA", "ESP", "FRA", "DEU", "ITA"):
                    hits += [
                        make_hit(common, country=country),
                        make_hit(restricted, country=country),
                        make_hit(denied, country=country),
                    ]
                produced: list[dict[str, Any]] = []
                for i in range(0, len(hits), 4):
                    batch = await emit(sessions, bus, hits[i : i + 4])
                    produced += batch
                    if i % 8 == 0:
                        await bus.publish(batch)  # at-least-once: the same alerts again
                # A last alert for every bureau marks the end of each stream.
                produced += await emit(
                    sessions,
                    bus,
                    [make_hit(make, country=c) for make, c in ((common, "DEU"), (common, "ITA"),
                                                                (common, "ESP"))],
                )

                expected = {
                    b: [a["id"] for a in produced if b in a["recipients"]] for b in BUREAUS
                }
                assert all(expected.values())
                for (replica, bureau), ws in clients.items():
                    last = expected[bureau][-1]
                    got = await _until(
                        ws, lambda m, last=last: m["type"] == "alert" and m["alert"]["id"] == last
                    )
                    ids = [m["alert"]["id"] for m in got if m["type"] == "alert"]
                    assert ids == expected[bureau], (replica, bureau)
                    for m in got:
                        if m["type"] == "alert":
                            assert bureau in m["alert"]["recipients"]

                # A triage step on replica A reaches the alert's bureaus on both replicas.
                target = next(a for a in produced if a["recipients"] == ["DEU", "FRA"])
                async with httpx2.AsyncClient(base_url=base_a, timeout=10) as http:
                    r = await http.post(
                        f"/v1/alerts/{target['id']}/transitions",
                        json={"status": "acknowledged", "note": "seen"},
                        headers={"Authorization": f"Bearer {tokens['DEU']}"},
                    )
                    assert r.status_code == 200, r.text
                for replica in ("a", "b"):
                    for bureau in ("DEU", "FRA"):
                        (msg,) = await _until(
                            clients[(replica, bureau)], lambda m: m["type"] == "alert_update"
                        )
                        assert (msg["id"], msg["status"]) == (target["id"], "acknowledged")
                    for bureau in ("ITA", "ESP"):
                        ws = clients[(replica, bureau)]
                        await ws.send(orjson.dumps({"type": "ping"}).decode())
                        assert await recv_json(ws) == {"type": "pong"}
                for ws in clients.values():
                    await ws.close()
        finally:
            await bus.stop()
            await engine.dispose()
