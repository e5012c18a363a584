"""Two real `failsafe serve` processes on PostgreSQL and Kafka (unique topics), clients of four
bureaus on each: every alert reaches exactly the entitled bureaus on both replicas, in order, once
(even when published twice), and a status change made on one replica reaches sockets on both."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from failsafe.db.engine import create_engine, create_sessionmaker
from failsafe.kit.bus import KafkaAlertBus
from failsafe.settings import DatabaseSettings
from tests.fixtures.app import free_port as _free_port
from tests.fixtures.app import make_token, serve_process
from tests.fixtures.factories import emit, fresh_database, make_entry, make_hit
from tests.fixtures.sockets import open_stream, recv_json

pytestmark = pytest.mark.integration

BUREAUS = ("FRA", "DEU", "ITA", "ESP")
FAILSAFE = str(Path(sys.executable).parent / "failsafe")


async def _create_topics(bootstrap: str, *names: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(n, 3, 1) for n in names])
    finally:
        await admin.close()


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
        bus = KafkaAlertBus({"bootstrap_servers": kafka_bootstrap}, alerts_topic, "test-replicas")
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


async def test_revocation_closes_sockets_on_every_replica_at_once(
    pg_server: str, kafka_bootstrap: str, unique_topic: Callable[[str], str]
) -> None:
    """Revoked on replica A, the principal's socket on replica B is closed (1008) within a second
    (not at its next heartbeat, 20 s away) and gets no alert published after the revocation,
    while another bureau's socket there does."""
    alerts_topic = unique_topic("failsafe.alerts.v1")
    await _create_topics(kafka_bootstrap, alerts_topic)
    async with fresh_database(pg_server) as url:
        engine = create_engine(DatabaseSettings(url=url, pool_size=5))
        sessions = create_sessionmaker(engine)
        bus = KafkaAlertBus({"bootstrap_servers": kafka_bootstrap}, alerts_topic, "test-revocation")
        await bus.start()
        env = {
            **os.environ,
            "FAILSAFE_DATABASE__URL": url,
            "FAILSAFE_DATABASE__AUTO_MIGRATE": "false",
            "FAILSAFE_KAFKA__BOOTSTRAP_SERVERS": kafka_bootstrap,
            "FAILSAFE_KAFKA__TOPICS__ALERTS": alerts_topic,
            "FAILSAFE_KAFKA__TOPICS__EVENTS": unique_topic("failsafe.events.v1"),
            "FAILSAFE_KAFKA__TOPICS__EVENTS_DLQ": unique_topic("failsafe.events.dlq.v1"),
        }
        try:
            admin = await make_token(sessions, "admin", None)
            revoked = await make_token(sessions, "bureau", "DEU")
            control = await make_token(sessions, "bureau", "FRA")
            entry = await make_entry(sessions, owner="FRA")
            async with (
                serve_process(env, _free_port()) as base_a,
                serve_process(env, _free_port()) as base_b,
            ):
                ws_b = base_b.replace("http://", "ws://") + "/v1/alerts/stream"
                doomed = await open_stream(ws_b, revoked)
                watcher = await open_stream(ws_b, control)
                for ws in (doomed, watcher):
                    assert (await recv_json(ws))["type"] == "subscribed"
                async with httpx2.AsyncClient(base_url=base_a, timeout=10) as http:
                    me = await http.get(
                        "/v1/principals/me", headers={"Authorization": f"Bearer {revoked}"}
                    )
                    principal_id = me.json()["id"]
                    loop = asyncio.get_running_loop()
                    t0 = loop.time()
                    r = await http.post(
                        f"/v1/principals/{principal_id}/revoke",
                        headers={"Authorization": f"Bearer {admin}"},
                    )
                    assert r.status_code == 200, r.text
                # Published after the revocation, for both bureaus.
                (after,) = await emit(sessions, bus, [make_hit(entry, country="DEU")])
                assert sorted(after["recipients"]) == ["DEU", "FRA"]

                frames: list[dict[str, Any]] = []
                with pytest.raises(ConnectionClosed):
                    async with asyncio.timeout(10):
                        while True:
                            frames.append(orjson.loads(await doomed.recv()))
                closed_after = loop.time() - t0
                assert doomed.close_code == 1008
                assert doomed.close_reason == "token revoked"
                assert closed_after < 2.0, closed_after
                assert not [f for f in frames if f.get("type") == "alert"], frames
                got = await _until(watcher, lambda m: m["type"] == "alert")
                assert got[-1]["alert"]["id"] == after["id"]
                await watcher.close()
        finally:
            await bus.stop()
            await engine.dispose()
