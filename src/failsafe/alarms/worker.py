"""`failsafe ingest-alarms`: the Kafka worker for radiation alarms (consumer group on
`failsafe.alarms.v1`, dead letters to `failsafe.alarms.dlq.v1`).

A sibling of `failsafe ingest`, not a second subscription inside it: alarms are rare (about one
per lane per day) while events come by thousands a second, and this worker needs no watchlist
in memory. Its own consumer group scales and fails on its own, so an unreadable N42 document
never delays screening, and one alarm worker serves many ingest workers.

Loop (the same guarantees as the events worker): getmany -> AlarmIntake.process (validate,
record, correlate, publish) -> dead letters sent -> commit exactly that batch. An outage of
PostgreSQL or Kafka retries the same batch with backoff (nothing is skipped, no restart); a
crash replays it, and recording is idempotent (one alarm, one alert, each link once).

Ready (`/readyz` on `--metrics-port`, failsafe.kit.worker): the topics exist, the consumer
runs, the last batch (if any) went through, and PostgreSQL and Kafka answer now (probed every
2 s: alarms are rare, so a batch failing could say an outage only hours late); not ready while
a step is retried or once stopping. When the probe finds Kafka gone, the producers drop what
they hold (as the events worker's do).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer

from failsafe.alarms.service import AlarmIntake
from failsafe.db.engine import create_engine, create_sessionmaker
from failsafe.ingest.pipeline import RawRecord
from failsafe.ingest.worker import (
    RETRYABLE,
    KafkaDeadLetters,
    close_clients,
    dead_letter_producer,
    retry_dependencies,
)
from failsafe.kit.bus import KafkaAlertBus
from failsafe.kit.kafka import KafkaProbe, client_options
from failsafe.kit.service import Services
from failsafe.kit.topics import require_topics
from failsafe.kit.worker import DatabaseProbe, commit_offsets
from failsafe.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


class AlarmWorker:
    def __init__(self, settings: Settings, batch_size: int = 100) -> None:
        self.settings = settings
        self.batch_size = batch_size
        self.processed = 0
        self._working = False  # the loop runs and the batch in flight is not being retried
        # The database and Kafka probes, once started: what readiness needs besides the loop.
        self._services = Services()
        self._stop = asyncio.Event()
        self._resets: list[Callable[[], Awaitable[None]]] = []

    @property
    def ready(self) -> bool:
        """What /readyz reports: see the module docstring."""
        return self._working and all(self._services.readiness().values())

    def request_stop(self) -> None:
        self._stop.set()

    async def _retrying(self, what: str, make: Callable[[], Awaitable[T]]) -> T:
        """`make()`'s result, retried with backoff while PostgreSQL or Kafka is away (the one
        loop of failsafe.kit.retry, as the events worker's); a stop requested during a wait
        gives up with the failure."""
        last: list[Exception] = []  # the latest failure only: an outage may last for hours

        async def failed(exc: Exception) -> None:
            self._working = False
            last[:] = [exc]
            # Producers holding sends spin while the broker is away: drop what they hold.
            for reset in self._resets:
                with contextlib.suppress(Exception):
                    await reset()

        async def wait(delay: float) -> None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)
            if self._stop.is_set():
                raise last[0]

        return await retry_dependencies(log, what, make, on_failure=failed, wait=wait)

    async def run(self) -> None:
        kafka = self.settings.kafka
        bootstrap = kafka.bootstrap_servers
        if not bootstrap:
            raise ValueError("failsafe ingest-alarms needs FAILSAFE_KAFKA__BOOTSTRAP_SERVERS")
        engine = create_engine(self.settings.database)
        sessions = create_sessionmaker(engine)
        client = client_options(kafka)
        producer = dead_letter_producer(
            "alarm dead letters", client, f"{kafka.client_id}-alarms-dlq"
        )
        bus = KafkaAlertBus(
            client, kafka.topics.alerts, kafka.client_id, publish_timeout=kafka.publish_timeout
        )
        self._resets = [producer.reset, bus.reset]
        consumer = AIOKafkaConsumer(
            **client,
            client_id=f"{kafka.client_id}-alarms",
            group_id=self.settings.alarms.consumer_group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.batch_size,
        )
        intake = AlarmIntake(sessions, bus, self.settings.alarms)
        dead = KafkaDeadLetters(
            producer, kafka.topics.alarms_dlq, self.settings.alarms.max_alarm_bytes
        )
        database = DatabaseProbe(engine)

        async def kafka_gone() -> None:
            await asyncio.gather(*(reset() for reset in self._resets))

        kafka_probe = KafkaProbe(client, on_down=kafka_gone)
        try:
            await self._retrying(
                "kafka topics",
                # The operator's (failsafe kafka create-topics): a missing one stops the worker
                # with MissingTopics naming it.
                lambda: require_topics(
                    client, [kafka.topics.alarms, kafka.topics.alarms_dlq, kafka.topics.alerts]
                ),
            )
            # PostgreSQL is where alarms meet crossings: not ready before it answers.
            await self._retrying("database", database.ping)
            await producer.start()
            await bus.start()
            consumer.subscribe([kafka.topics.alarms])
            await self._retrying("kafka consumer", consumer.start)
            await database.check()
            await self._services.start(database)
            await kafka_probe.check()
            await self._services.start(kafka_probe)
            self._working = True
            while not self._stop.is_set():
                batches = await consumer.getmany(timeout_ms=200, max_records=self.batch_size)
                if not batches:
                    continue
                records = [
                    RawRecord(m.value, m.topic, m.partition, m.offset, m.key)
                    for msgs in batches.values()
                    for m in msgs
                ]

                async def handle(rs: list[RawRecord] = records) -> None:
                    outcome = await intake.process(rs)
                    if outcome.rejected:
                        await dead.send(outcome.rejected)

                await self._retrying("alarm batch", handle)
                offsets: dict[Any, int] = {
                    tp: msgs[-1].offset + 1 for tp, msgs in batches.items() if msgs
                }

                async def commit(o: dict[Any, int] = offsets) -> None:
                    await commit_offsets(consumer, o)

                await self._retrying("offset commit", commit)
                self._working = True
                self.processed += len(records)
        except RETRYABLE:
            log.info("alarm worker stopped while a dependency was away (batch not committed)")
        finally:
            self._working = False
            await self._services.stop_all()  # the probes
            await close_clients(consumer, bus, producer, engine)
            log.info("alarm worker stopped after %d messages", self.processed)
