"""Alert delivery: end-to-end latency from an event produced to Kafka to the alert received on a
bureau's websocket, and the memory an idle websocket costs a `serve` replica.

    .venv/bin/python benchmarks/delivery/latency.py [--clients 100] [--rate 500] [--seconds 20]
        [--hit-rate 0.1] [--idle 1000] [--rounds 3]

Needs the dev services (`make services`: PostgreSQL on 127.0.0.1:15432, Kafka on 127.0.0.1:19092;
override with --pg / --kafka). Each round: a fresh database with a synthetic watchlist (owners
spread over the bureaus), fresh topics, one real `failsafe serve` and one real `failsafe ingest`
process, one websocket client per bureau (100 bureaus), then events produced at a steady rate
(a share of them travellers on the list, seen in a random bureau's country). The producer stamps
each event id with the time it called `send`; each client measures, for every alert it receives,
now minus that stamp: Kafka events topic -> ingest (screen, persist, publish) -> alerts topic ->
serve's hub -> websocket. The first seconds are warm-up and not counted. Then `--idle` more
connections are opened on the same replica and its RSS is compared before and after.
Figures are the medians over the rounds (this machine has 2 noisy cores shared by everything).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson
import psutil
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fixtures.app import make_token  # noqa: E402
from tests.fixtures.factories import fresh_database, make_entry  # noqa: E402

from failsafe.db.engine import create_engine, create_sessionmaker  # noqa: E402
from failsafe.kit.codes import ISO_ALPHA3  # noqa: E402
from failsafe.settings import DatabaseSettings  # noqa: E402

FAILSAFE = str(Path(sys.executable).parent / "failsafe")
WARMUP_S = 3.0


def unique_names(n: int) -> list[tuple[str, str]]:
    """Distinct, dissimilar real-looking names, so that a planted hit matches one entry only."""
    from faker import Faker

    fake = Faker(["en_US", "de_DE", "fr_FR", "es_ES", "it_IT", "pl_PL"])
    fake.seed_instance(1974)
    return [(fake.unique.last_name().upper(), fake.first_name().upper()) for _ in range(n)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 90) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(url, timeout=1) as r,  # noqa: ASYNC210 (start-up only)
        ):
            if r.status == 200:
                return
        await asyncio.sleep(0.2)
    raise TimeoutError(url)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Client:
    def __init__(self, ws: ClientConnection, since_ns: list[int]) -> None:
        self.ws = ws
        self.latencies_ms: list[float] = []
        self.alerts = 0
        self.measure_from = since_ns
        self.task = asyncio.create_task(self.run())

    async def run(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                now = time.time_ns()
                msg = orjson.loads(raw)
                if msg["type"] == "alert":
                    self.alerts += 1
                    sent = int(msg["alert"]["event"]["event_id"].rsplit("-", 1)[1])
                    if sent >= self.measure_from[0]:
                        self.latencies_ms.append((now - sent) / 1e6)
                elif msg["type"] == "ping":
                    await self.ws.send('{"type": "pong"}')


async def one_round(args: argparse.Namespace, rnd: int) -> dict[str, float]:
    tag = uuid.uuid4().hex[:8]
    topics = {
        "EVENTS": f"bench.events.{tag}",
        "EVENTS_DLQ": f"bench.dlq.{tag}",
        "ALERTS": f"bench.alerts.{tag}",
    }
    admin = AIOKafkaAdminClient(bootstrap_servers=args.kafka)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(topics["EVENTS"], 4, 1), NewTopic(topics["EVENTS_DLQ"], 1, 1),
             NewTopic(topics["ALERTS"], args.alert_partitions, 1)]
        )
    finally:
        await admin.close()

    bureaus = sorted(ISO_ALPHA3)[: args.clients]
    async with fresh_database(args.pg) as url:
        engine = create_engine(DatabaseSettings(url=url, pool_size=5))
        sessions = create_sessionmaker(engine)
        entries = []
        names = unique_names(args.entries)
        for i in range(args.entries):
            entry = await make_entry(
                sessions,
                owner=bureaus[i % len(bureaus)],
                surname=names[i][0],
                given_names=names[i][1],
                document=f"X{i:08d}",
            )
            entries.append(entry)
        tokens = [await make_token(sessions, "bureau", b) for b in bureaus]
        await engine.dispose()

        env = {
            **os.environ,
            "FAILSAFE_DATABASE__URL": url,
            "FAILSAFE_DATABASE__AUTO_MIGRATE": "false",
            "FAILSAFE_KAFKA__BOOTSTRAP_SERVERS": args.kafka,
            "FAILSAFE_KAFKA__CONSUMER_GROUP": f"bench-{tag}",
            "FAILSAFE_LOG_LEVEL": "WARNING",
            **{f"FAILSAFE_KAFKA__TOPICS__{k}": v for k, v in topics.items()},
        }
        port, metrics = free_port(), free_port()
        serve = subprocess.Popen(
            [FAILSAFE, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL
        )
        ingest = subprocess.Popen(
            [FAILSAFE, "ingest", "--metrics-port", str(metrics)], env=env,
            stdout=subprocess.DEVNULL,
        )
        producer = AIOKafkaProducer(bootstrap_servers=args.kafka, linger_ms=0, acks=1)
        clients: list[Client] = []
        idle: list[ClientConnection] = []
        try:
            await wait_ready(f"http://127.0.0.1:{port}/readyz", serve)
            await wait_ready(f"http://127.0.0.1:{metrics}/readyz", ingest)
            await producer.start()
            ws_url = f"ws://127.0.0.1:{port}/v1/alerts/stream"
            measure_from = [2**63]
            for token in tokens:
                ws = await connect(ws_url, additional_headers={"Authorization": f"Bearer {token}"})
                await ws.send('{"type": "subscribe", "since": null}')
                assert orjson.loads(await ws.recv())["type"] == "subscribed"
                clients.append(Client(ws, measure_from))

            # Steady traffic: `rate` events/s in 10 ms ticks, a share of them hits.
            per_tick = args.rate / 100
            seq = 0
            start = time.monotonic()
            owed = 0.0
            hits = 0
            while (elapsed := time.monotonic() - start) < args.seconds + WARMUP_S:
                if measure_from[0] == 2**63 and elapsed >= WARMUP_S:
                    measure_from[0] = time.time_ns()
                owed += per_tick
                while owed >= 1:
                    owed -= 1
                    seq += 1
                    country = random.choice(bureaus)
                    if random.random() < args.hit_rate:
                        hits += 1
                        entry = random.choice(entries)
                        traveller = {"surname": entry["subject"]["surname"],
                                     "given_names": entry["subject"]["given_names"],
                                     "date_of_birth": "1970-03-14"}
                        document = entry["subject"]["documents"][0]
                    else:
                        traveller = {"surname": f"TRAVELLER{seq % 997}", "given_names": "JOHN",
                                     "date_of_birth": "1985-01-01"}
                        document = {"type": "P", "number": f"N{seq:09d}", "issuing_state": "UTO"}
                    event = {
                        "schema": "failsafe.event/v1",
                        "event_id": f"b{rnd}-{seq}-{time.time_ns()}",
                        "kind": "border_crossing",
                        "occurred_at": "2026-11-27T10:22:05+01:00",
                        "source": f"{country}-BP",
                        "country": country,
                        "crossing": {"point": f"{country}-1", "mode": "air", "direction": "entry"},
                        "traveller": traveller,
                        "document": {"type": "P", "number": document["number"],
                                     "issuing_state": document["issuing_state"]},
                    }
                    await producer.send(topics["EVENTS"], orjson.dumps(event))
                tick_end = start + (int(elapsed * 100) + 1) / 100
                await asyncio.sleep(max(0.0, tick_end - time.monotonic()))  # pacing the producer
            await producer.flush()
            await asyncio.sleep(3.0)  # drain: deliveries still in flight
            latencies = [lat for c in clients for lat in c.latencies_ms]
            delivered = sum(c.alerts for c in clients)

            # Idle connections on the same replica: RSS before and after.
            proc = psutil.Process(serve.pid)
            rss_before = proc.memory_info().rss
            for i in range(args.idle):
                headers = {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}
                ws = await connect(ws_url, additional_headers=headers)
                await ws.send('{"type": "subscribe", "since": null}')
                idle.append(ws)
            for ws in idle:
                await ws.recv()  # subscribed: the server holds the full per-socket state
            await asyncio.sleep(1.0)  # let the allocator settle before reading RSS
            rss_after = proc.memory_info().rss
            per_conn_kib = (rss_after - rss_before) / max(1, args.idle) / 1024
            result = {
                "events": float(seq),
                "planted_hits": float(hits),
                "deliveries": float(delivered),
                "measured": float(len(latencies)),
                "p50_ms": pct(latencies, 0.50),
                "p99_ms": pct(latencies, 0.99),
                "max_ms": max(latencies) if latencies else float("nan"),
                "rate_eps": seq / (args.seconds + WARMUP_S),
                "idle_kib_per_conn": per_conn_kib,
                "rss_mib": rss_after / 2**20,
            }
            print(
                f"round {rnd}: {seq} events ({result['rate_eps']:.0f}/s), {hits} hits, "
                f"{delivered} deliveries to {len(clients)} clients; latency p50 "
                f"{result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, max "
                f"{result['max_ms']:.1f} ms ({len(latencies)} measured); {args.idle} idle "
                f"sockets: {per_conn_kib:.1f} KiB each (serve RSS {result['rss_mib']:.0f} MiB)",
                flush=True,
            )
            return result
        finally:
            for c in clients:
                c.task.cancel()
                with contextlib.suppress(Exception):
                    await c.ws.close()
            for ws in idle:
                with contextlib.suppress(Exception):
                    await ws.close()
            with contextlib.suppress(Exception):
                await producer.stop()
            stop(ingest)
            stop(serve)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default="postgresql://failsafe:failsafe@127.0.0.1:15432")
    parser.add_argument("--kafka", default="127.0.0.1:19092")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--entries", type=int, default=300)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--hit-rate", type=float, default=0.1)
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--alert-partitions", type=int, default=3)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 8192)), hard))
    results = [await one_round(args, r) for r in range(1, args.rounds + 1)]
    med = {k: statistics.median(r[k] for r in results) for k in results[0]}
    print(
        f"\nmedian of {len(results)} rounds, {args.clients} bureau clients, "
        f"{med['rate_eps']:.0f} events/s ({args.hit_rate:.0%} hits): end-to-end p50 "
        f"{med['p50_ms']:.1f} ms, p99 {med['p99_ms']:.1f} ms (target p99 <= 100 ms); "
        f"{args.idle} idle websockets on one replica: {med['idle_kib_per_conn']:.1f} KiB each"
    )


if __name__ == "__main__":
    asyncio.run(main())
