"""The alert bus: where alerts go after commit, and where every `serve` replica reads them.

Two implementations behind one small interface, the same code path in both modes:
- `MemoryAlertBus`: the embedded mode, one process; subscribers get every alert published.
- `KafkaAlertBus`: topic `failsafe.alerts.v1`, JSON values keyed by alert id. Publication is
  at-least-once (a replayed batch publishes again); readers de-duplicate by alert id. A publish
  that is not acknowledged within `publish_timeout` fails and drops the producer with what it
  holds (failsafe.kit.kafka): the caller retries the batch once Kafka is back.

Besides alerts the bus carries control messages, `{"control": ..., ...}` without an `id`, that
every replica's hub must act on: `revocation(principal_id)` (close that principal's sockets).
They travel with the alerts, under the same key, so an alert published after a revocation
reaches every hub after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Protocol

import orjson
from aiokafka.errors import KafkaError, KafkaTimeoutError
from pydantic import TypeAdapter, ValidationError

from failsafe.contract import BusMessage, ControlMessage
from failsafe.kit.kafka import ClientOptions, LazyProducer
from failsafe.kit.retry import Backoff, OutageLog, retry

log = logging.getLogger(__name__)

ALERTS_KEY = b"alerts"
PRINCIPAL_REVOKED = "principal_revoked"


# Messages from the topic are validated once, here: whatever reaches a subscriber is typed.
_message: TypeAdapter[BusMessage] = TypeAdapter(BusMessage)


def revocation(principal_id: str) -> ControlMessage:
    """The control message telling every hub to close `principal_id`'s sockets."""
    return {"control": PRINCIPAL_REVOKED, "principal_id": principal_id}


class AlertBus(Protocol):
    """A `failsafe.kit.service.Service` that carries alerts (and control messages)."""

    @property
    def name(self) -> str: ...
    @property
    def ready(self) -> bool: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def publish(self, alerts: Sequence[BusMessage]) -> None:
        """Returns once every alert is durably handed over (Kafka: acknowledged by the broker)."""

    def subscribe(self) -> AsyncIterator[BusMessage]:
        """Alerts published from now on (Kafka: from the end of the topic, all partitions)."""


class MemoryAlertBus:
    name = "alert_bus"
    ready = True  # nothing to connect to

    def __init__(self, queue_size: int = 10_000) -> None:
        self._subscribers: set[asyncio.Queue[BusMessage]] = set()
        self._queue_size = queue_size

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self._subscribers.clear()

    async def publish(self, alerts: Sequence[BusMessage]) -> None:
        for alert in alerts:
            for queue in list(self._subscribers):
                # A subscriber that stopped reading loses the overflow; the hub resumes from the
                # database by id, as it does after any gap.
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(alert)

    async def subscribe(self) -> AsyncIterator[BusMessage]:
        queue: asyncio.Queue[BusMessage] = asyncio.Queue(self._queue_size)
        self._subscribers.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers.discard(queue)


class KafkaAlertBus:
    name = "alert_bus"

    def __init__(
        self,
        client: ClientOptions,
        topic: str,
        client_id: str = "failsafe",
        publish_timeout: float = 10.0,
    ) -> None:
        # bootstrap servers and security (failsafe.kit.kafka.client_options)
        self._client = client
        self._topic = topic
        self._client_id = client_id
        self.publish_timeout = publish_timeout
        self._producer = LazyProducer(
            "alert bus",
            **client,
            client_id=f"{client_id}-alerts",
            acks="all",
            enable_idempotence=True,
            linger_ms=2,
        )

    @property
    def ready(self) -> bool:
        return self._producer.ready

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self, within: float = 3.0) -> None:
        await self._producer.stop(within)

    async def reset(self) -> None:
        """Kafka went away: drop the producer and the alerts it holds (see publish)."""
        await self._producer.reset()

    async def publish(self, alerts: Sequence[BusMessage]) -> None:
        if not alerts:
            return
        # One key, one partition: readers get alerts in publication order (close to id order),
        # so hubs rarely see an id ahead of a missing one. Alerts are a small fraction of events;
        # one partition carries them easily.
        futures = [
            await self._producer.send(self._topic, orjson.dumps(alert), key=ALERTS_KEY)
            for alert in alerts
        ]
        done, pending = await asyncio.wait(futures, timeout=self.publish_timeout)
        if pending:
            await self._producer.reset()
            raise KafkaTimeoutError(f"alerts not acknowledged within {self.publish_timeout} s")
        for future in done:
            future.result()

    async def subscribe(self) -> AsyncIterator[BusMessage]:
        from aiokafka import AIOKafkaConsumer

        async def attempt() -> AIOKafkaConsumer:
            # No group: every replica reads every partition, from the end (replay comes from
            # the database).
            consumer = AIOKafkaConsumer(
                self._topic,
                **self._client,
                client_id=f"{self._client_id}-hub",
                group_id=None,
                auto_offset_reset="latest",
                enable_auto_commit=False,
            )
            try:
                await consumer.start()
            except (KafkaError, OSError):
                await consumer.stop()
                raise
            return consumer

        consumer = await retry(
            attempt,
            outage=OutageLog(log, "alert topic"),
            retry_on=(KafkaError, OSError),
            backoff=Backoff(0.5, 10.0),
        )
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=500)
                for records in batches.values():
                    for record in records:
                        try:
                            message = _message.validate_json(record.value)
                        except ValidationError:
                            # Not JSON, or neither an alert nor a control message: never the
                            # content in the log (it may hold personal data).
                            log.warning("unreadable alert at offset %s", record.offset)
                            continue
                        yield message
        finally:
            await consumer.stop()
