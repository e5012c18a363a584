"""PostgreSQL or Kafka going away mid-stream: the worker waits, reports not ready, retries, and
resumes when they are back, losing and duplicating nothing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from failsafe.db.engine import create_engine, create_sessionmaker
from failsafe.db.models import Alert
from failsafe.ingest.service import new_screener
from failsafe.ingest.worker import IngestWorker
from failsafe.settings import DatabaseSettings, KafkaSettings, Settings, TopicSettings
from tests.factories import entry_doc, event, put_entry

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


class TcpProxy:
    """A loopback TCP proxy that can be cut (every connection dropped, nothing accepted) and
    restored: a database outage as the worker sees it."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.server: asyncio.Server | None = None
        self.port = 0
        self.tasks: set[asyncio.Task[None]] = set()
        self.writers: set[asyncio.StreamWriter] = set()

    async def _pipe(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await r.read(65536):
                w.write(data)
                await w.drain()
        w.close()

    async def _handle(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        try:
            ur, uw = await asyncio.open_connection(*self.target)
        except OSError:
            w.close()
            return
        self.writers |= {w, uw}
        for coro in (self._pipe(r, uw), self._pipe(ur, w)):
            task = asyncio.create_task(coro)
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for w in self.writers:
            w.transport.abort()
        self.writers.clear()
        for t in list(self.tasks):
            t.cancel()
        await self.server.wait_closed()


async def wait_for(cond: Any, timeout: float = 60) -> None:
    async with asyncio.timeout(timeout):
        while not await cond():
            await asyncio.sleep(0.1)


async def test_database_outage_pauses_and_resumes_without_loss(
    fresh_pg_url: str, kafka_bootstrap: str
) -> None:
    tag = uuid.uuid4().hex[:8]
    direct = create_sessionmaker(engine := create_engine(DatabaseSettings(url=fresh_pg_url)))
    entry = await put_entry(direct, entry_doc("ABERNATHY", "SOLOMON", dob="1959-12-01"))
    host_port = fresh_pg_url.rsplit("@", 1)[1].split("/")[0]
    proxy = TcpProxy(host_port.split(":")[0], int(host_port.split(":")[1]))
    await proxy.start()
    proxied = fresh_pg_url.replace(host_port, f"127.0.0.1:{proxy.port}")
    topics = TopicSettings(
        events=f"out.events.{tag}", events_dlq=f"out.dlq.{tag}", alerts=f"out.alerts.{tag}"
    )
    settings = Settings(
        database=DatabaseSettings(url=proxied),
        kafka=KafkaSettings(
            bootstrap_servers=kafka_bootstrap, topics=topics, consumer_group=f"out-{tag}"
        ),
    )
    worker = IngestWorker(settings, new_screener(), batch_size=20)
    task = asyncio.create_task(worker.run())
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()

    async def alerts() -> list[tuple[str, str]]:
        async with direct() as s:
            return [tuple(r) for r in await s.execute(select(Alert.event_id, Alert.entry_id))]

    sent: list[str] = []

    async def send(n: int) -> None:
        for _ in range(n):
            ev = event("ABERNATHY", "SOLOMON", dob="1959-12-01")
            sent.append(ev["event_id"])
            await producer.send_and_wait(topics.events, orjson.dumps(ev), key=b"k")

    try:
        await wait_for(lambda: asyncio.sleep(0, worker.ready))
        await send(5)
        await wait_for(lambda: _count_at_least(alerts, 5))
        await proxy.cut()
        await send(10)  # arrives while the database is away
        await wait_for(lambda: asyncio.sleep(0, not worker.ready), timeout=30)
        await asyncio.sleep(2)  # a few retries fail
        assert len(await alerts()) == 5
        await proxy.start()  # the database is back, on the same port
        await wait_for(lambda: _count_at_least(alerts, 15))
        await wait_for(lambda: asyncio.sleep(0, worker.ready))
        await asyncio.sleep(1)
        got = await alerts()
        assert sorted(got) == sorted((e, entry["id"]) for e in sent)
    finally:
        worker.request_stop()
        await asyncio.wait_for(task, 60)
        await producer.stop()
        await engine.dispose()


async def _count_at_least(alerts: Any, n: int) -> bool:
    return len(await alerts()) >= n


@pytest.fixture
def private_kafka(tmp_path: Path) -> Any:
    """A broker of this test's own (so stopping it disturbs no other test)."""
    # Below the ephemeral range (32768-60999), where a client's own outgoing connection can
    # take the port first; the dev services use 15432 and 19092.
    port = 29092 + os.getpid() % 500 * 2
    env = {
        **os.environ,
        "FAILSAFE_DEV_KAFKA_PORT": str(port),
        "FAILSAFE_DEV_KAFKA_DIR": os.environ.get(
            "FAILSAFE_DEV_KAFKA_DIR", str(ROOT / ".cache" / "kafka")
        ),
        "KAFKA_HEAP_OPTS": "-Xmx256m -Xms128m",
    }

    def ctl(cmd: str) -> None:
        subprocess.run(
            [str(ROOT / "scripts" / "kafka.sh"), cmd],
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )

    ctl("start")
    try:
        yield f"127.0.0.1:{port}", ctl
    finally:
        ctl("stop")


async def test_kafka_outage_pauses_and_resumes_without_loss(
    fresh_pg_url: str, private_kafka: Any
) -> None:
    bootstrap, ctl = private_kafka
    tag = uuid.uuid4().hex[:8]
    direct = create_sessionmaker(engine := create_engine(DatabaseSettings(url=fresh_pg_url)))
    entry = await put_entry(direct, entry_doc("VANTERPOOL", "MIRIAM", dob="1966-06-16"))
    topics = TopicSettings(
        events=f"kout.events.{tag}", events_dlq=f"kout.dlq.{tag}", alerts=f"kout.alerts.{tag}"
    )
    settings = Settings(
        database=DatabaseSettings(url=fresh_pg_url),
        kafka=KafkaSettings(
            bootstrap_servers=bootstrap, topics=topics, consumer_group=f"kout-{tag}"
        ),
    )
    worker = IngestWorker(settings, new_screener(), batch_size=20)
    task = asyncio.create_task(worker.run())

    async def alerts() -> list[tuple[str, str]]:
        async with direct() as s:
            return [tuple(r) for r in await s.execute(select(Alert.event_id, Alert.entry_id))]

    sent: list[str] = []

    async def send(n: int) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            for _ in range(n):
                ev = event("VANTERPOOL", "MIRIAM", dob="1966-06-16")
                sent.append(ev["event_id"])
                await producer.send_and_wait(topics.events, orjson.dumps(ev), key=b"k")
        finally:
            await producer.stop()

    try:
        await wait_for(lambda: asyncio.sleep(0, worker.ready))
        await send(5)
        await wait_for(lambda: _count_at_least(alerts, 5))
        await asyncio.to_thread(ctl, "stop")
        await asyncio.sleep(3)  # the worker notices, logs and keeps trying
        assert not task.done()
        await asyncio.to_thread(ctl, "start")
        await send(10)
        await wait_for(lambda: _count_at_least(alerts, 15), timeout=120)
        await asyncio.sleep(1)
        got = await alerts()
        assert sorted(got) == sorted((e, entry["id"]) for e in sent)
    finally:
        worker.request_stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 60)
        await engine.dispose()
