"""`failsafe ingest`: the Kafka stream worker (consumer group on failsafe.events.v1).

Loop: getmany -> Pipeline.process (validate, dead-letter, screen, persist, publish) -> commit the
offsets of exactly that batch. Nothing is committed before its alerts are in the database and on
the alerts topic, so a crash anywhere replays the batch, and replays create no duplicates.

- Failures of PostgreSQL or Kafka pause the batch, mark the worker not ready, and retry the same
  records with backoff and jitter (failsafe.kit.retry); nothing is skipped and no restart is
  needed. Logging is per state change (gone, still gone every minute, back), never per attempt.
- Ready (`/readyz`) means: the loop runs, the last batch went through, Kafka answers a metadata
  request (checked every 2 s by a probe) and the watchlist follower reads PostgreSQL.
- When the probe finds Kafka gone, the producers are dropped with what they hold (an aiokafka
  producer holding batches during an outage spins; see failsafe.kit.kafka) and reconnect with
  backoff; the batch that was publishing fails and is retried.
- A rebalance waits for the batch in flight to be committed before partitions go.
- Its topics must exist (failsafe.kit.topics): a missing one stops the worker with an error that
  names it and the command creating it; the worker never creates topics.
- SIGTERM finishes the batch, commits and exits 0; a batch that cannot finish within
  `ingest.shutdown_timeout` (Kafka or PostgreSQL away) is abandoned uncommitted, which is safe
  (it is replayed), and every client is closed within a few seconds more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.errors import KafkaError, MessageSizeTooLargeError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from failsafe.db.engine import create_engine, create_sessionmaker
from failsafe.ingest import metrics
from failsafe.ingest.follower import WatchlistFollower
from failsafe.ingest.pipeline import LaneObserver, Pipeline, RawRecord, Rejection
from failsafe.ingest.screener import Screener
from failsafe.kit.bus import AlertBus, KafkaAlertBus
from failsafe.kit.kafka import ClientOptions, KafkaProbe, LazyProducer, client_options
from failsafe.kit.retry import Backoff, OutageLog, retry
from failsafe.kit.service import Services
from failsafe.kit.topics import ingest_topics, require_topics
from failsafe.kit.worker import commit_offsets
from failsafe.settings import Settings

# The worker makes its sessions and bus when it runs: a lane observer is made from them.
LanesFactory = Callable[[async_sessionmaker[AsyncSession], AlertBus], LaneObserver]

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRYABLE = (SQLAlchemyError, OSError, KafkaError, TimeoutError, ConnectionError)
CLOSE_TIMEOUT = 3.0  # per client at shutdown; they close concurrently


class _Stopping(Exception):
    """Raised out of a retry loop when a stop is requested while a dependency is away."""


class KafkaDeadLetters:
    """Invalid events to failsafe.events.dlq.v1: original bytes as value, the reason in headers.

    A message too large to be produced again with the headers added keeps only its first
    `keep_bytes` (header `failsafe.truncated` = the original size), and no key: otherwise it
    could never be dead-lettered and its partition would stop.
    """

    def __init__(
        self, producer: AIOKafkaProducer, topic: str, keep_bytes: int = 256 * 1024
    ) -> None:
        self.producer = producer
        self.topic = topic
        self.keep_bytes = keep_bytes

    async def send(self, rejections: Sequence[Rejection]) -> None:
        futures = []
        for r in rejections:
            rec = r.record
            headers = [
                ("failsafe.error", r.reason.encode()[:1000]),
                ("failsafe.source.topic", (rec.topic or "").encode()),
                ("failsafe.source.partition", str(rec.partition).encode()),
                ("failsafe.source.offset", str(rec.offset).encode()),
            ]
            value = rec.value or b""
            try:
                future = await self.producer.send(self.topic, value, key=rec.key, headers=headers)
            except MessageSizeTooLargeError:
                headers.append(("failsafe.truncated", str(len(value)).encode()))
                future = await self.producer.send(
                    self.topic, value[: self.keep_bytes], key=None, headers=headers
                )
            futures.append(future)
        await asyncio.gather(*futures)


class _FinishBeforeRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, lock: asyncio.Lock) -> None:
        self.lock = lock

    async def on_partitions_revoked(self, revoked: Any) -> None:
        # The loop holds the lock from processing through commit: waiting for it means the batch
        # in flight is committed before its partitions move to another worker.
        async with self.lock:
            pass

    async def on_partitions_assigned(self, assigned: Any) -> None:
        return None


class IngestWorker:
    def __init__(
        self,
        settings: Settings,
        screener: Screener,
        batch_size: int = 500,
        threshold: float | None = None,
        lanes: LanesFactory | None = None,
    ) -> None:
        """`lanes` makes what sees the crossings that name a lane (radiation alarms: given by
        the caller, above both domains: `failsafe ingest` passes failsafe.alarms')."""
        self.settings = settings
        self.lanes = lanes
        self.screener = screener
        self.batch_size = batch_size
        # None: the setting (FAILSAFE_MATCHING__THRESHOLD).
        self.threshold = settings.matching.threshold if threshold is None else threshold
        self.processed = 0
        self.shutdown_timeout = settings.ingest.shutdown_timeout
        self._running = False  # clients started, the loop runs
        self._failing = False  # the batch in flight is being retried
        # The follower and the probe, once started: what readiness needs besides the loop.
        self._services = Services()
        self._stop = asyncio.Event()
        self._lock = asyncio.Lock()

    @property
    def ready(self) -> bool:
        """What /readyz reports: see the module docstring."""
        # The loop runs only once both services are started (see `_work`).
        return (
            self._running
            and not self._failing
            and all(self._services.readiness().values())
        )

    def request_stop(self) -> None:
        if not self._stop.is_set():
            log.info(
                "stop requested: finishing the batch in flight (at most %.0f s)",
                self.shutdown_timeout,
            )
        self._stop.set()

    async def _retrying(self, what: str, make: Callable[[], Awaitable[T]]) -> T:
        async def failed(exc: Exception) -> None:
            if self._stop.is_set():
                raise _Stopping(what) from exc
            self._failing = True
            metrics.RETRIES.labels(type(exc).__name__).inc()

        async def wait(delay: float) -> None:
            # A stop request ends the wait: the next failure then gives up.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)

        result = await retry_dependencies(log, what, make, on_failure=failed, wait=wait)
        self._failing = False
        return result

    async def run(self) -> None:
        """Run until request_stop(); then finish (or, past the shutdown timeout, abandon) the
        batch in flight and close every client within a bound."""
        kafka = self.settings.kafka
        if not kafka.bootstrap_servers:
            raise ValueError("failsafe ingest needs FAILSAFE_KAFKA__BOOTSTRAP_SERVERS")
        work = asyncio.create_task(self._work(client_options(kafka)), name="ingest")
        stop = asyncio.create_task(self._stop.wait(), name="ingest-stop")
        try:
            await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
            if not work.done():
                await asyncio.wait({work}, timeout=self.shutdown_timeout)
            if not work.done():
                log.warning(
                    "the batch in flight did not finish within %.0f s; abandoned uncommitted "
                    "(it is replayed)",
                    self.shutdown_timeout,
                )
                work.cancel()
                # Its clean-up closes every client, each within CLOSE_TIMEOUT.
                await asyncio.wait({work}, timeout=3 * CLOSE_TIMEOUT)
        except asyncio.CancelledError:
            work.cancel()
            raise
        finally:
            stop.cancel()
        if work.done() and not work.cancelled():
            work.result()  # a failure that is not an outage is not swallowed

    async def _work(self, client: ClientOptions) -> None:
        kafka = self.settings.kafka
        engine = create_engine(self.settings.database)
        sessions = create_sessionmaker(engine)
        follower = WatchlistFollower(sessions, self.screener)
        producer = dead_letter_producer("dead letters", client, f"{kafka.client_id}-dlq")
        bus = KafkaAlertBus(
            client, kafka.topics.alerts, kafka.client_id, publish_timeout=kafka.publish_timeout
        )

        async def kafka_gone() -> None:
            # Producers holding sends spin while the broker is away: drop them and what they
            # hold; the batch in flight fails and is retried when Kafka is back.
            await asyncio.gather(producer.reset(), bus.reset())

        probe = KafkaProbe(client, on_down=kafka_gone)
        consumer = AIOKafkaConsumer(
            **client,
            client_id=f"{kafka.client_id}-ingest",
            group_id=kafka.consumer_group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.batch_size,
            fetch_max_bytes=16 * 1024 * 1024,
        )
        try:
            # First a probe: if Kafka refuses us (TLS, credentials), its first log line says why.
            await probe.check()
            # Topics are the operator's (failsafe kafka create-topics): a missing one stops the
            # worker with MissingTopics naming it; Kafka away is retried like any outage.
            own_topics = ingest_topics(kafka)
            await self._retrying("kafka topics", lambda: require_topics(client, own_topics))
            await producer.start()
            await bus.start()
            await self._retrying("watchlist load", follower.load)
            log.info(
                "watchlist loaded: %d entries at revision %d",
                len(follower.entries),
                follower.revision,
            )
            await self._services.start(follower)
            pipeline = Pipeline(
                sessions,
                follower,
                bus,
                KafkaDeadLetters(producer, kafka.topics.events_dlq, kafka.max_event_bytes),
                threshold=self.threshold,
                max_event_bytes=kafka.max_event_bytes,
                lanes=None if self.lanes is None else self.lanes(sessions, bus),
            )
            consumer.subscribe([kafka.topics.events], listener=_FinishBeforeRevoke(self._lock))
            await self._retrying("kafka consumer", consumer.start)
            await probe.check()
            await self._services.start(probe)
            await self._loop(consumer, pipeline)
        except _Stopping as stopping:
            log.info("stopped while %s was waiting for a dependency", stopping)
        finally:
            self._running = False
            await self._services.stop_all()  # the probe, then the follower
            await close_clients(consumer, bus, producer, engine)
            log.info("ingest stopped after %d events", self.processed)

    async def _loop(self, consumer: AIOKafkaConsumer, pipeline: Pipeline) -> None:
        self._running = True
        while not self._stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=self.batch_size)
            if not batches:
                continue
            async with self._lock:
                records = [
                    RawRecord(
                        value=m.value,
                        topic=m.topic,
                        partition=m.partition,
                        offset=m.offset,
                        key=m.key,
                        arrived_ms=m.timestamp,  # ops: event-to-alert latency
                    )
                    for msgs in batches.values()
                    for m in msgs
                ]
                # Stopping while a dependency is away raises _Stopping: nothing is committed
                # and the batch replays (harmlessly) later.
                await self._retrying("batch", partial(pipeline.process, records))
                offsets = {tp: msgs[-1].offset + 1 for tp, msgs in batches.items() if msgs}
                await self._retrying("offset commit", partial(commit_offsets, consumer, offsets))
                self.processed += len(records)
                for tp, next_offset in offsets.items():
                    high = consumer.highwater(tp)
                    if high is not None:
                        metrics.CONSUMER_LAG.labels(tp.topic, tp.partition).set(
                            max(0, high - next_offset)
                        )


async def retry_dependencies(
    logger: logging.Logger,
    what: str,
    make: Callable[[], Awaitable[T]],
    *,
    on_failure: Callable[[Exception], Awaitable[None]],
    wait: Callable[[float], Awaitable[object]],
) -> T:
    """A worker's step (events', alarms') retried while PostgreSQL or Kafka is away: the
    failures of RETRYABLE kinds, backoff from 0.5 to 10 s, one outage log for `what`."""
    return await retry(
        make,
        outage=OutageLog(logger, f"{what}: database or Kafka"),
        retry_on=RETRYABLE,
        backoff=Backoff(0.5, 10.0),
        on_failure=on_failure,
        wait=wait,
    )


def dead_letter_producer(what: str, client: ClientOptions, client_id: str) -> LazyProducer:
    """The producer of a worker's dead letters (events', alarms'): acknowledged by every in-sync
    replica, idempotent (a send the client retries is written once), batched for 5 ms."""
    return LazyProducer(
        what, **client, client_id=client_id, acks="all", enable_idempotence=True, linger_ms=5
    )


async def close_clients(
    consumer: AIOKafkaConsumer, bus: KafkaAlertBus, producer: LazyProducer, engine: AsyncEngine
) -> None:
    """A worker's clients closed concurrently, each within CLOSE_TIMEOUT (events' and alarms')."""
    await asyncio.gather(
        _bounded("kafka consumer", consumer.stop()),
        _bounded("alert bus", bus.stop(CLOSE_TIMEOUT)),
        _bounded("dead-letter producer", producer.stop(CLOSE_TIMEOUT)),
        _bounded("database pool", engine.dispose()),
    )


async def _bounded(what: str, closing: Any, within: float = CLOSE_TIMEOUT) -> None:
    """Await one client's close for at most `within` seconds, in its own task: a close that
    fails, hangs or raises CancelledError from aiokafka's own tasks (its fetcher does when the
    broker is away) is logged and left behind, never raised, so the others still close."""
    task = asyncio.ensure_future(closing)
    await asyncio.wait({task}, timeout=within)
    if not task.done():
        task.cancel()
        log.warning("%s did not close within %.0f s; abandoned", what, within)
    elif task.cancelled() or task.exception() is not None:
        log.info("%s closed with an error (the broker may be away)", what)
