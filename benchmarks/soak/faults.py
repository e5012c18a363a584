"""Soak under faults (outside CI): `failsafe serve` and two `failsafe ingest` workers on the dev
PostgreSQL and Kafka, a steady stream of events with planted hits, an admin websocket that keeps
every alert it receives (resuming with `since` when dropped), and faults injected in a loop for
N minutes; then the counts.

    .venv/bin/python benchmarks/soak/faults.py [--minutes 5] [--rate 40] [--hit-rate 0.1]
        [--pg-port 15432] [--kafka-port 19092]

Faults, in rotation: SIGKILL a worker (restarted, as a supervisor would), SIGSTOP a worker past
its session timeout then SIGCONT, SIGTERM a worker (must exit 0 within its bound; restarted),
stop and start Kafka (scripts/kafka.sh), stop and start PostgreSQL (scripts/postgres.sh). A
fault is survived when, after it, every process is up and ready again and the alerts of the
hits planted so far are all stored. This stops and starts the dev services it is pointed at:
use ports no one else is using. At the end it waits for the backlog, then prints: events sent
(acknowledged by Kafka), hits planted, alerts stored, alerts delivered on the websocket, lost
(planted hits without an alert, stored alerts the websocket never delivered), duplicated (an
alert stored twice, or delivered twice on the socket), faults survived.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from sqlalchemy import func, select
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fixtures.app import make_token  # noqa: E402
from tests.fixtures.factories import fresh_database, make_entry  # noqa: E402

from failsafe.db.engine import create_engine, create_sessionmaker  # noqa: E402
from failsafe.db.models import Alert  # noqa: E402
from failsafe.kit.kafka import close_producer  # noqa: E402
from failsafe.logging import configure_logging  # noqa: E402
from failsafe.settings import DatabaseSettings  # noqa: E402

FAILSAFE = [sys.executable, "-m", "failsafe.cli"]


def say(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {msg}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_status(url: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


class Services:
    def __init__(self, pg_port: int, kafka_port: int, kafka_dir: str | None) -> None:
        self.env = {
            **os.environ,
            "FAILSAFE_DEV_PG_PORT": str(pg_port),
            "FAILSAFE_DEV_KAFKA_PORT": str(kafka_port),
        }
        if kafka_dir:
            self.env["FAILSAFE_DEV_KAFKA_DIR"] = kafka_dir

    def run(self, script: str, *args: str) -> None:
        subprocess.run(
            [str(ROOT / "scripts" / script), *args],
            env=self.env,
            check=True,
            capture_output=True,
            timeout=180,
        )


class Worker:
    """One `failsafe ingest` process, restarted when a fault ends it."""

    def __init__(self, name: str, env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.env = env
        self.logs = logs
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with (self.logs / f"{self.name}.log").open("ab") as sink:
            self.proc = subprocess.Popen(
                [*FAILSAFE, "ingest", "--batch-size", "50", "--metrics-port", str(self.port)],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=sink,
            )

    @property
    def readyz(self) -> str:
        return f"http://127.0.0.1:{self.port}/readyz"


class Stream:
    """Events to Kafka at a steady rate, hits planted; a send that fails is retried (with a new
    producer) until acknowledged, so "sent" means acknowledged by the broker."""

    def __init__(self, bootstrap: str, topic: str, entries: list[dict[str, Any]], args: Any):
        self.bootstrap = bootstrap
        self.topic = topic
        self.entries = entries
        self.rate = args.rate
        self.hit_rate = args.hit_rate
        self.sent = 0
        self.planted: dict[str, str] = {}  # event_id -> entry id
        self.stopping = asyncio.Event()

    def event(self, seq: int) -> tuple[dict[str, Any], str | None]:
        country = random.choice(["DEU", "FRA", "ITA", "ESP", "POL"])
        entry = random.choice(self.entries) if random.random() < self.hit_rate else None
        if entry is not None:
            subject = entry["subject"]
            traveller = {"surname": subject["surname"], "given_names": subject["given_names"],
                         "date_of_birth": "1970-03-14"}
            number = subject["documents"][0]["number"]
        else:
            traveller = {"surname": f"PASSENGER{seq % 991}", "given_names": "JOHN",
                         "date_of_birth": "1985-01-01"}
            number = f"N{seq:09d}"
        event = {
            "schema": "failsafe.event/v1",
            "event_id": f"soak-{uuid.uuid4().hex}",
            "kind": "border_crossing",
            "occurred_at": "2026-11-27T10:22:05+01:00",
            "source": f"{country}-BP",
            "country": country,
            "crossing": {"point": f"{country}-1", "mode": "air", "direction": "entry"},
            "traveller": traveller,
            "document": {"type": "P", "number": number, "issuing_state": "RUS"},
        }
        return event, entry["id"] if entry is not None else None

    async def run(self) -> None:
        producer: Any = None
        seq = 0
        tick = 0.25
        while not self.stopping.is_set():
            started = time.monotonic()
            batch = [self.event(seq + i) for i in range(max(1, round(self.rate * tick)))]
            seq += len(batch)
            while True:  # this batch until acknowledged
                try:
                    if producer is None:
                        producer = AIOKafkaProducer(
                            bootstrap_servers=self.bootstrap, acks="all", linger_ms=5
                        )
                        await producer.start()
                    futures = [
                        await producer.send(self.topic, orjson.dumps(ev)) for ev, _ in batch
                    ]
                    async with asyncio.timeout(10):
                        await asyncio.gather(*futures)
                    break
                except Exception:  # noqa: BLE001 (Kafka away: a new producer, later)
                    if producer is not None:
                        await close_producer(producer, within=1.0, flush=False)
                        producer = None
                    await asyncio.sleep(2.0)
            self.sent += len(batch)
            for ev, entry_id in batch:
                if entry_id is not None:
                    self.planted[ev["event_id"]] = entry_id
            await asyncio.sleep(max(0.0, tick - (time.monotonic() - started)))
        if producer is not None:
            await close_producer(producer, within=3.0)


class Socket:
    """An admin's websocket: every alert, resumed with `since` after any drop."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token
        self.received: list[int] = []
        self.last = 0
        self.reconnects = 0

    async def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        while True:
            try:
                async with connect(self.url, additional_headers=headers) as ws:
                    await ws.send(orjson.dumps({"type": "subscribe", "since": self.last}).decode())
                    async for raw in ws:
                        msg = orjson.loads(raw)
                        if msg["type"] == "alert":
                            alert_id = int(msg["alert"]["id"])
                            self.received.append(alert_id)
                            self.last = max(self.last, alert_id)
                        elif msg["type"] == "ping":
                            await ws.send('{"type": "pong"}')
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 (closed by a fault: resume)
                pass
            self.reconnects += 1
            await asyncio.sleep(1.0)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=40.0, help="events per second")
    parser.add_argument("--hit-rate", type=float, default=0.1)
    parser.add_argument("--entries", type=int, default=60)
    parser.add_argument("--pg-port", type=int, default=15432)
    parser.add_argument("--kafka-port", type=int, default=19092)
    parser.add_argument("--kafka-dir", default=os.environ.get("FAILSAFE_DEV_KAFKA_DIR"))
    parser.add_argument("--outage-s", type=float, default=15.0, help="length of each outage")
    args = parser.parse_args()
    configure_logging("WARNING")  # this process's own Kafka clients: rate-limited too
    services = Services(args.pg_port, args.kafka_port, args.kafka_dir)
    services.run("postgres.sh", "start", "failsafe")
    services.run("kafka.sh", "start")
    bootstrap = f"127.0.0.1:{args.kafka_port}"
    pg = f"postgresql://failsafe:failsafe@127.0.0.1:{args.pg_port}"
    tag = uuid.uuid4().hex[:8]
    topics = {"EVENTS": f"soak.events.{tag}", "EVENTS_DLQ": f"soak.dlq.{tag}",
              "ALERTS": f"soak.alerts.{tag}"}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topics["EVENTS"], 4, 1),
                                   NewTopic(topics["EVENTS_DLQ"], 1, 1),
                                   NewTopic(topics["ALERTS"], 1, 1)])
    finally:
        await admin.close()
    logs = ROOT / ".cache" / "soak" / tag
    logs.mkdir(parents=True, exist_ok=True)

    async with fresh_database(pg) as url:
        engine = create_engine(DatabaseSettings(url=url, pool_size=2))
        sessions = create_sessionmaker(engine)
        from faker import Faker

        fake = Faker(["en_US", "de_DE", "fr_FR", "it_IT"])
        fake.seed_instance(2026)
        entries = [
            await make_entry(sessions, owner="FRA", surname=fake.unique.last_name().upper(),
                             given_names=fake.first_name().upper(), document=f"S{i:08d}")
            for i in range(args.entries)
        ]
        token = await make_token(sessions, "admin", None)
        await engine.dispose()
        env = {
            **os.environ,
            "FAILSAFE_DATABASE__URL": url,
            "FAILSAFE_DATABASE__AUTO_MIGRATE": "false",
            "FAILSAFE_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
            "FAILSAFE_KAFKA__CONSUMER_GROUP": f"soak-{tag}",
            "FAILSAFE_INGEST__SHUTDOWN_TIMEOUT": "5",
            **{f"FAILSAFE_KAFKA__TOPICS__{k}": v for k, v in topics.items()},
        }
        serve_port = free_port()
        with (logs / "serve.log").open("ab") as sink:
            serve = subprocess.Popen([*FAILSAFE, "serve", "--port", str(serve_port)], env=env,
                                     stdout=sink, stderr=sink)
        workers = [Worker(f"ingest-{i}", env, logs) for i in (1, 2)]
        for w in workers:
            w.start()
        stream = Stream(bootstrap, topics["EVENTS"], entries, args)
        sock = Socket(f"ws://127.0.0.1:{serve_port}/v1/alerts/stream", token)
        tasks: list[asyncio.Task[None]] = []
        survived: dict[str, int] = {}
        injected: dict[str, int] = {}
        sigterm_exits: list[tuple[int | None, float]] = []

        async def stored_pairs() -> list[tuple[str, str]]:
            engine = create_engine(DatabaseSettings(url=url, pool_size=1))
            try:
                async with create_sessionmaker(engine)() as s:
                    return [tuple(r) for r in await s.execute(select(Alert.event_id,
                                                                      Alert.entry_id))]
            finally:
                await engine.dispose()

        async def all_ready(timeout: float) -> bool:
            deadline = time.monotonic() + timeout
            urls = [f"http://127.0.0.1:{serve_port}/readyz", *(w.readyz for w in workers)]
            while time.monotonic() < deadline:
                states = await asyncio.gather(*(asyncio.to_thread(http_status, u) for u in urls))
                if all(s == 200 for s in states) and serve.poll() is None:
                    return True
                await asyncio.sleep(1.0)
            return False

        async def caught_up(timeout: float) -> bool:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                want = set(stream.planted.items())
                with contextlib.suppress(Exception):
                    if want <= set(await stored_pairs()):
                        return True
                await asyncio.sleep(2.0)
            return False

        async def kill9() -> None:
            w = random.choice(workers)
            assert w.proc is not None
            w.proc.send_signal(signal.SIGKILL)
            w.proc.wait()
            w.start()

        async def sigstop() -> None:
            w = random.choice(workers)
            assert w.proc is not None
            w.proc.send_signal(signal.SIGSTOP)
            await asyncio.sleep(args.outage_s)
            w.proc.send_signal(signal.SIGCONT)

        async def sigterm() -> None:
            w = random.choice(workers)
            assert w.proc is not None
            started = time.monotonic()
            w.proc.send_signal(signal.SIGTERM)
            try:
                rc: int | None = await asyncio.to_thread(w.proc.wait, 60)
            except subprocess.TimeoutExpired:
                rc = None
                w.proc.kill()
                w.proc.wait()
            sigterm_exits.append((rc, time.monotonic() - started))
            w.start()

        async def kafka_outage() -> None:
            await asyncio.to_thread(services.run, "kafka.sh", "stop")
            await asyncio.sleep(args.outage_s)
            await asyncio.to_thread(services.run, "kafka.sh", "start")

        async def pg_outage() -> None:
            await asyncio.to_thread(services.run, "postgres.sh", "stop")
            await asyncio.sleep(args.outage_s)
            await asyncio.to_thread(services.run, "postgres.sh", "start", "failsafe")

        faults = [("kill -9 worker", kill9), ("SIGSTOP/SIGCONT worker", sigstop),
                  ("stop/start Kafka", kafka_outage), ("SIGTERM worker", sigterm),
                  ("stop/start PostgreSQL", pg_outage)]
        try:
            if not await all_ready(120):
                raise RuntimeError("processes not ready at start")
            await sock_ready(sock, tasks)
            tasks.append(asyncio.create_task(stream.run()))
            say(f"soak for {args.minutes} min: serve :{serve_port}, 2 workers, logs in {logs}")
            end = time.monotonic() + args.minutes * 60
            i = 0
            while time.monotonic() < end:
                await asyncio.sleep(5.0)  # traffic between faults
                name, fault = faults[i % len(faults)]
                i += 1
                injected[name] = injected.get(name, 0) + 1
                say(f"fault: {name}")
                await fault()
                ok = await all_ready(120) and await caught_up(120)
                survived[name] = survived.get(name, 0) + int(ok)
                say(f"  {'recovered' if ok else 'NOT RECOVERED'} (sent {stream.sent}, "
                    f"planted {len(stream.planted)}, delivered {len(set(sock.received))})")
            stream.stopping.set()
            await tasks[-1]
            await caught_up(180)
            stored = await stored_pairs()
            async with asyncio.timeout(60):
                while len(set(sock.received)) < len(stored):
                    await asyncio.sleep(0.5)
        except TimeoutError:
            pass
        finally:
            for t in tasks:
                t.cancel()
            exits = []
            for w in workers:
                if w.proc is not None:
                    w.proc.send_signal(signal.SIGTERM)
                    try:
                        exits.append(w.proc.wait(60))
                    except subprocess.TimeoutExpired:
                        w.proc.kill()
                        exits.append(None)
            serve.send_signal(signal.SIGTERM)
            try:
                serve.wait(30)
            except subprocess.TimeoutExpired:
                serve.kill()
        stored = await stored_pairs()
        planted = set(stream.planted.items())
        stored_set = set(stored)
        delivered = set(sock.received)
        engine = create_engine(DatabaseSettings(url=url, pool_size=1))
        async with create_sessionmaker(engine)() as s:
            ids = set((await s.execute(select(Alert.id))).scalars())
            n_alerts = await s.scalar(select(func.count()).select_from(Alert))
        await engine.dispose()
        lost_hits = len(planted - stored_set)
        undelivered = len(ids - delivered)
        dup_stored = len(stored) - len(stored_set)
        dup_socket = len(sock.received) - len(delivered)
        print()
        print(f"soak: {args.minutes} min, {args.rate:.0f} events/s, {args.hit_rate:.0%} hits")
        print(f"events sent (acknowledged)   {stream.sent}")
        print(f"hits planted                 {len(planted)}")
        print(f"alerts stored                {n_alerts}")
        print(f"alerts delivered (websocket) {len(delivered)} "
              f"(socket reconnects {sock.reconnects})")
        print(f"lost                         {lost_hits} planted hits without an alert, "
              f"{undelivered} stored alerts not delivered")
        print(f"duplicated                   {dup_stored} stored twice, "
              f"{dup_socket} delivered twice")
        print("faults survived              "
              + ", ".join(f"{n} {survived.get(n, 0)}/{k}" for n, k in injected.items())
              + f" (total {sum(survived.values())}/{sum(injected.values())})")
        print(f"SIGTERM during the run       exit codes and seconds {sigterm_exits}")
        print(f"final SIGTERM of workers     exit codes {exits}")


async def sock_ready(sock: Socket, tasks: list[asyncio.Task[None]]) -> None:
    tasks.append(asyncio.create_task(sock.run()))
    await asyncio.sleep(1.0)


if __name__ == "__main__":
    asyncio.run(main())
