"""Project Stone end to end: the simulator's lane crossings at `--rate`/s and alarms at
`--alarms`/s into Kafka, one real `failsafe serve`, `failsafe ingest` and `failsafe
ingest-alarms` process each, and the crossing point's bureau on the websocket. Latency: an
alarm produced (its id carries the time of `send`) -> its radiation alert on the bureau's
websocket (Kafka -> ingest-alarms: record, link, alert -> alerts topic -> serve's hub -> socket).
Also: whether every injected SNM alarm arrived as exactly one critical alert.

    .venv/bin/python benchmarks/alarms/end_to_end.py \\
        --pg postgresql://failsafe:failsafe@127.0.0.1:15432 --kafka 127.0.0.1:19092 \\
        [--rate 2000] [--alarms 10] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks" / "delivery"))

from latency import free_port, pct, stop, wait_ready  # noqa: E402
from tests.fixtures.app import make_token  # noqa: E402
from tests.fixtures.factories import fresh_database  # noqa: E402

from failsafe.alarms.simulate import Stream  # noqa: E402
from failsafe.db.engine import create_engine, create_sessionmaker  # noqa: E402
from failsafe.settings import DatabaseSettings  # noqa: E402

FAILSAFE = str(Path(sys.executable).parent / "failsafe")
WARMUP_S = 3.0


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pg", default="postgresql://failsafe:failsafe@127.0.0.1:15432")
    ap.add_argument("--kafka", default="127.0.0.1:19092")
    ap.add_argument("--rate", type=float, default=2000.0, help="crossings per second")
    ap.add_argument("--alarms", type=float, default=10.0, help="alarms per second")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--points", type=int, default=40)
    ap.add_argument("--snm-every", type=int, default=20)
    args = ap.parse_args()

    tag = uuid.uuid4().hex[:8]
    topics = {
        "EVENTS": f"bench.events.{tag}",
        "EVENTS_DLQ": f"bench.dlq.{tag}",
        "ALERTS": f"bench.alerts.{tag}",
        "ALARMS": f"bench.alarms.{tag}",
        "ALARMS_DLQ": f"bench.alarms-dlq.{tag}",
    }
    admin = AIOKafkaAdminClient(bootstrap_servers=args.kafka)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(t, 4 if k in ("EVENTS", "ALARMS") else 1, 1) for k, t in topics.items()]
        )
    finally:
        await admin.close()

    async with fresh_database(args.pg) as url:
        engine = create_engine(DatabaseSettings(url=url, pool_size=2))
        token = await make_token(create_sessionmaker(engine), "bureau", "DEU")
        await engine.dispose()
        env = {
            **os.environ,
            "FAILSAFE_DATABASE__URL": url,
            "FAILSAFE_DATABASE__AUTO_MIGRATE": "false",
            "FAILSAFE_KAFKA__BOOTSTRAP_SERVERS": args.kafka,
            "FAILSAFE_KAFKA__CONSUMER_GROUP": f"bench-{tag}",
            "FAILSAFE_ALARMS__CONSUMER_GROUP": f"bench-alarms-{tag}",
            "FAILSAFE_LOG_LEVEL": "WARNING",
            **{f"FAILSAFE_KAFKA__TOPICS__{k}": v for k, v in topics.items()},
        }
        port, metrics, alarm_metrics = free_port(), free_port(), free_port()
        procs = [
            subprocess.Popen([FAILSAFE, "serve", "--port", str(port)], env=env),
            subprocess.Popen([FAILSAFE, "ingest", "--metrics-port", str(metrics)], env=env),
            # A free port, not the default 9109: runs side by side must not collide.
            subprocess.Popen(
                [FAILSAFE, "ingest-alarms", "--metrics-port", str(alarm_metrics)], env=env
            ),
        ]
        producer = AIOKafkaProducer(bootstrap_servers=args.kafka, linger_ms=5, acks=1)
        latencies: list[float] = []
        alerts: dict[str, dict[str, Any]] = {}
        updates = 0
        measure_from = [2**63]
        try:
            await wait_ready(f"http://127.0.0.1:{port}/readyz", procs[0])
            await wait_ready(f"http://127.0.0.1:{metrics}/readyz", procs[1])
            await producer.start()
            ws = await connect(
                f"ws://127.0.0.1:{port}/v1/alerts/stream",
                additional_headers={"Authorization": f"Bearer {token}"},
                max_size=2**24,
            )
            await ws.send('{"type": "subscribe", "since": null}')
            assert orjson.loads(await ws.recv())["type"] == "subscribed"

            async def read() -> None:
                nonlocal updates
                with contextlib.suppress(Exception):
                    async for raw in ws:
                        now = time.time_ns()
                        msg = orjson.loads(raw)
                        if msg["type"] == "ping":
                            await ws.send('{"type": "pong"}')
                        elif msg["type"] == "alert_update":
                            updates += 1
                        elif (
                            msg["type"] == "alert" and msg["alert"].get("kind") == "radiation_alarm"
                        ):
                            alarm = msg["alert"]["alarm"]
                            alerts.setdefault(alarm["alarm_id"], msg["alert"])
                            sent = int(alarm["alarm_id"].split("-")[1])
                            if sent >= measure_from[0]:
                                latencies.append((now - sent) / 1e6)

            reader = asyncio.create_task(read())
            stream = Stream(
                points=[f"DEU-E2E-{i:02d}" for i in range(args.points)],
                seed=11,
                alarms_per_lane_day=0.0,  # alarms come at --alarms below
            )
            lanes = args.points * 6
            sim_per_s = args.rate / (lanes / 30.0 * 2.0)
            tick = 0.05
            owed_alarms = 0.0
            n_alarms = 0
            snm_ids: list[str] = []
            crossings = 0
            start = time.monotonic()
            nxt = start
            while (elapsed := time.monotonic() - start) < args.seconds + WARMUP_S:
                if measure_from[0] == 2**63 and elapsed >= WARMUP_S:
                    measure_from[0] = time.time_ns()
                events, _ = stream.advance(sim_per_s * tick)
                for e in events:
                    await producer.send(
                        topics["EVENTS"], orjson.dumps(e), key=e["event_id"].encode()
                    )
                crossings += len(events)
                owed_alarms += args.alarms * tick
                while owed_alarms >= 1:
                    owed_alarms -= 1
                    n_alarms += 1
                    alarm = stream.alarm()
                    snm = n_alarms % args.snm_every == 0
                    if snm:
                        alarm["categories"] = ["gamma", "neutron"]
                        alarm["nuclides"] = [
                            {"name": "Pu-239", "category": "snm", "confidence": 0.7}
                        ]
                    alarm["alarm_id"] = f"e2e-{time.time_ns()}-{n_alarms}"
                    if snm:
                        snm_ids.append(alarm["alarm_id"])
                    await producer.send(topics["ALARMS"], orjson.dumps(alarm), key=b"a")
                nxt += tick
                await asyncio.sleep(max(0.0, nxt - time.monotonic()))
            await producer.flush()
            elapsed = time.monotonic() - start
            async with asyncio.timeout(60):
                while len(alerts) < n_alarms:
                    await asyncio.sleep(0.2)
            await asyncio.sleep(2.0)
            reader.cancel()
            snm_ok = sum(1 for a in snm_ids if a in alerts and alerts[a]["severity"] == "critical")
            print(
                f"{crossings} crossings ({crossings / elapsed:.0f}/s), {n_alarms} alarms "
                f"({n_alarms / elapsed:.1f}/s) on {args.points} points x 6 lanes; "
                "alarm produced -> radiation alert on the websocket: "
                f"p50 {pct(latencies, 0.5):.0f} ms, "
                f"p99 {pct(latencies, 0.99):.0f} ms, max {max(latencies):.0f} ms "
                f"({len(latencies)} measured); "
                f"{len(alerts)} radiation alerts for {n_alarms} alarms; "
                f"SNM injected {len(snm_ids)}, arrived as one critical alert {snm_ok}; "
                f"{updates} alert_update frames",
                flush=True,
            )
        finally:
            with contextlib.suppress(Exception):
                await producer.stop()
            for proc in reversed(procs):
                stop(proc)


if __name__ == "__main__":
    asyncio.run(main())
