"""Small Kafka helpers shared by the ingest worker, the alert hub and the health checks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiokafka import AIOKafkaClient
from aiokafka.errors import KafkaError

log = logging.getLogger(__name__)


async def kafka_ready(bootstrap_servers: str, wait_s: float = 3.0) -> bool:
    """True when the cluster answers a metadata request within `wait_s` seconds."""
    client = AIOKafkaClient(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=int(wait_s * 1000)
    )
    try:
        async with asyncio.timeout(wait_s):
            await client.bootstrap()
            await client.fetch_all_metadata()
        return True
    except (TimeoutError, OSError, Exception):  # noqa: BLE001  (any failure means "not ready")
        return False
    finally:
        await client.close()


class LazyProducer:
    """An AIOKafkaProducer that connects in the background and keeps trying while Kafka is away,
    so that a `serve` process starts (and reports not ready) instead of failing at start-up."""

    def __init__(self, what: str, **config: Any) -> None:
        self.what = what
        self.config = config
        self._producer: Any = None
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def ready(self) -> bool:
        return self._connected.is_set()

    async def start(self) -> None:
        """Start connecting in the background; `get()` waits for the connection."""
        self._task = asyncio.create_task(self._connect(), name=f"connect-{self.what}")

    async def _connect(self) -> None:
        from aiokafka import AIOKafkaProducer

        delay = 0.5
        while True:
            producer = AIOKafkaProducer(**self.config)
            try:
                await producer.start()
            except (KafkaError, OSError) as exc:
                await producer.stop()
                log.warning(
                    "%s: Kafka unavailable (%s); retrying in %.1fs",
                    self.what,
                    type(exc).__name__,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            self._producer = producer
            self._connected.set()
            return

    async def get(self, wait_s: float = 10.0) -> Any:
        """The connected producer; raises TimeoutError if Kafka stays away for `wait_s`."""
        await asyncio.wait_for(asyncio.shield(self._connected.wait()), wait_s)
        return self._producer

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
            self._connected.clear()
