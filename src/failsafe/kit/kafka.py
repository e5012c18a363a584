"""Small Kafka helpers shared by the ingest worker, the alert hub and the health checks.

Outages (issue 9): an aiokafka producer that still holds batches while the broker is away retries
them in a tight loop (when partition leaders are unknown, each forced metadata update fails at
once and is forced again: a core at 100 % and thousands of log lines a second), and its `stop()`
waits for those batches to be delivered or to expire. So producers here are dropped, not kept,
when Kafka goes away: `LazyProducer.reset()` fails what they hold (the caller retries the whole
batch, which is harmless: publication is at-least-once) and reconnects with backoff;
`close_producer` stops one within a bound (and halts one that will not stop); `KafkaProbe` tells
when the cluster is away. A producer that is connected while the broker goes away without the
probe seeing it go (it connected during the broker's shutdown, after the probe had already found
it gone) would still spin until its sends time out: `pace_metadata` keeps its failed metadata
updates at least `METADATA_PAUSE` apart, so no producer here spins whatever the timing.

Every aiokafka client (producer, consumer, admin, the readiness probe) is built from
`client_options(settings.kafka)`: bootstrap servers and security (TLS, SASL) in one place, so no
client can be left talking PLAINTEXT to a cluster that requires more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaClient
from aiokafka.errors import KafkaConnectionError, KafkaError

from failsafe.kit.retry import Backoff, OutageLog, retry
from failsafe.kit.service import PeriodicProbe
from failsafe.settings import KafkaSettings

log = logging.getLogger(__name__)

# Keyword arguments every aiokafka client takes: bootstrap_servers and the security options.
ClientOptions = Mapping[str, Any]


def client_options(kafka: KafkaSettings) -> dict[str, Any]:
    """The connection options of every aiokafka client (producer, consumer, admin client,
    probe): bootstrap servers, security protocol, TLS context and SASL credentials. The
    settings were checked for consistency when read (KafkaSettings)."""
    if not kafka.bootstrap_servers:
        raise ValueError("Kafka is not configured (FAILSAFE_KAFKA__BOOTSTRAP_SERVERS)")
    options: dict[str, Any] = {
        "bootstrap_servers": kafka.bootstrap_servers,
        "security_protocol": kafka.security_protocol,
    }
    if kafka.security_protocol.endswith("SSL"):
        options["ssl_context"] = kafka.tls_context()
    if kafka.security_protocol.startswith("SASL_"):
        assert kafka.sasl_password is not None  # the settings' validator requires it
        options["sasl_mechanism"] = kafka.sasl_mechanism
        options["sasl_plain_username"] = kafka.sasl_username
        # aiokafka takes the password as a plain string (for PLAIN and SCRAM alike); it lives
        # only in the clients' options, which are never logged.
        options["sasl_plain_password"] = kafka.sasl_password.get_secret_value()
    return options


def describe_failure(exc: BaseException) -> str:
    """What went wrong connecting, for a log line: the error's type and message (aiokafka's
    messages name the broker and the mechanism, never the credentials)."""
    text, name = str(exc).strip(), type(exc).__name__
    if not text:
        return name
    return text if name in text else f"{name}: {text}"  # KafkaErrors name themselves


async def kafka_check(client: ClientOptions, wait_s: float = 3.0) -> str | None:
    """None when the cluster answers a metadata request within `wait_s` seconds, else why not
    (a refused connection, a TLS failure, a failed authentication, a timeout)."""
    probe = AIOKafkaClient(**client, request_timeout_ms=int(wait_s * 1000))
    try:
        async with asyncio.timeout(wait_s):
            await probe.bootstrap()
            await probe.fetch_all_metadata()
        return None
    except TimeoutError:
        return f"no answer within {wait_s:.0f} s"
    except KafkaConnectionError as exc:
        # "Unable to bootstrap": the cause (refused, TLS, authentication) is only in aiokafka's
        # own log line, and an operator needs it. One direct connection tells it.
        return await _connect_failure(client, wait_s) or describe_failure(exc)
    except Exception as exc:  # noqa: BLE001  (any failure means "not ready", and says why)
        return describe_failure(exc)
    finally:
        await probe.close()


async def _connect_failure(client: ClientOptions, wait_s: float) -> str | None:
    """Why a connection to the first bootstrap server fails (None if it does not)."""
    from aiokafka.conn import create_conn

    first = str(client["bootstrap_servers"]).split(",")[0].strip()
    host, _, port = first.rpartition(":")
    try:
        async with asyncio.timeout(wait_s):
            conn = await create_conn(
                host.strip("[]") or "localhost",
                int(port or 9092),
                request_timeout_ms=int(wait_s * 1000),
                ssl_context=client.get("ssl_context"),
                security_protocol=client.get("security_protocol", "PLAINTEXT"),
                sasl_mechanism=client.get("sasl_mechanism", "PLAIN"),
                sasl_plain_username=client.get("sasl_plain_username"),
                sasl_plain_password=client.get("sasl_plain_password"),
            )
    except TimeoutError:
        return f"no answer from {first} within {wait_s:.0f} s"
    except Exception as exc:  # noqa: BLE001  (the reason is what is asked for)
        return f"{first}: {describe_failure(exc)}"
    conn.close()
    return None


async def kafka_ready(client: ClientOptions, wait_s: float = 3.0) -> bool:
    """True when the cluster answers a metadata request within `wait_s` seconds."""
    return await kafka_check(client, wait_s) is None


METADATA_PAUSE = 0.5  # seconds between one producer's failed metadata updates


def pace_metadata(producer: Any, pause: float = METADATA_PAUSE) -> None:
    """Keep an AIOKafkaProducer's forced metadata updates at least `pause` seconds apart after
    one fails. aiokafka's sender forces an update each time round its loop while a partition's
    leader is unknown (as a broker reports during its shutdown), and with the broker gone each
    update fails at once: a tight loop, one core at 100 %. Paced, a failed update is followed by
    a wait; the loop's other wake-ups (a send, a finished request) are unchanged."""
    client = producer.client
    force = client.force_metadata_update
    not_before = 0.0

    def paced() -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        wait = not_before - loop.time()
        if wait > 0:
            return asyncio.ensure_future(asyncio.sleep(wait, False))
        update: asyncio.Future[Any] = force()
        update.add_done_callback(failed_then_pause)
        return update

    def failed_then_pause(update: asyncio.Future[Any]) -> None:
        nonlocal not_before
        if update.cancelled() or update.exception() is not None or not update.result():
            not_before = asyncio.get_running_loop().time() + pause

    client.force_metadata_update = paced


async def close_producer(producer: Any, within: float = 3.0, flush: bool = True) -> None:
    """Stop an AIOKafkaProducer within about `within` seconds: flush what can be flushed (unless
    `flush` is false), then fail the sends it still holds (their futures raise), then give up."""
    stop = asyncio.ensure_future(producer.stop())
    if flush:
        await asyncio.wait({stop}, timeout=within)
    if not stop.done():
        # stop() waits for every pending batch to be delivered or to expire (request_timeout_ms,
        # 40 s by default, retried in a tight loop meanwhile). Failing them lets it finish now.
        # aiokafka has no public call for this; its own sender uses the same one when it dies.
        accumulator = getattr(producer, "_message_accumulator", None)
        if accumulator is not None:
            _fail_pending(accumulator)
        await asyncio.wait({stop}, timeout=within)
    if not stop.done():
        stop.cancel()
        await _halt(producer)
        log.warning("a Kafka producer did not close within %.0f s; halted", 2 * within)
        await asyncio.wait({stop}, timeout=1.0)
    if stop.done() and not stop.cancelled() and stop.exception() is not None:
        log.info("a Kafka producer closed with %s", type(stop.exception()).__name__)


async def _halt(producer: Any) -> None:
    """Stop what a producer that would not stop still runs: its sender (which would go on
    retrying whatever it holds, for ever) and its client's metadata task and connections."""
    sender_task = getattr(getattr(producer, "_sender", None), "sender_task", None)
    if sender_task is not None and not sender_task.done():
        sender_task.cancel()
        await asyncio.wait({sender_task}, timeout=1.0)
    with contextlib.suppress(Exception):  # its connections are going anyway
        await asyncio.wait_for(producer.client.close(), 1.0)


def _fail_pending(accumulator: Any) -> None:
    """Fail every batch an aiokafka MessageAccumulator holds, without the noise of doing so."""
    batches = [b for queue in accumulator._batches.values() for b in queue]
    for batch in batches:
        # A batch sent once and queued again for a retry still has the done-callback that takes
        # it out of the in-flight set (and raises KeyError when it is not there).
        if batch._retry_count:
            accumulator._pending_batches.add(batch)
    batches += accumulator._pending_batches
    accumulator.fail_all(KafkaConnectionError("producer closed while Kafka was away"))
    for batch in batches:
        for future in (batch.future, batch._drain_waiter):
            _retrieve(future)  # failed futures no one awaits any more


def _retrieve(future: asyncio.Future[Any]) -> None:
    # Sends failed by reset() may have no one awaiting them any more: mark their exceptions
    # retrieved, or asyncio logs "Future exception was never retrieved" for each message.
    if future.done() and not future.cancelled():
        future.exception()


class LazyProducer:
    """An AIOKafkaProducer that connects in the background and keeps trying while Kafka is away,
    so that a `serve` process starts (and reports not ready) instead of failing at start-up.
    `reset()` drops the producer and what it holds (see the module docstring) and reconnects."""

    def __init__(self, what: str, **config: Any) -> None:
        self.what = what
        self.config = config
        self._producer: Any = None
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._outage = OutageLog(log, f"{what}: Kafka")

    @property
    def ready(self) -> bool:
        return self._connected.is_set()

    async def start(self) -> None:
        """Start connecting in the background; `get()` waits for the connection."""
        self._task = asyncio.create_task(self._connect(), name=f"connect-{self.what}")

    async def _connect(self) -> None:
        from aiokafka import AIOKafkaProducer

        async def attempt() -> Any:
            producer = AIOKafkaProducer(**self.config)
            pace_metadata(producer)
            try:
                await producer.start()
            except (KafkaError, OSError):
                await close_producer(producer, within=1.0, flush=False)
                raise
            return producer

        async def why(exc: Exception) -> BaseException | str:
            if not self._outage.down and isinstance(exc, KafkaConnectionError):
                # The first line of an outage says why (refused, TLS, credentials).
                return await _connect_failure(self.config, 3.0) or exc
            return exc

        self._producer = await retry(
            attempt,
            outage=self._outage,
            retry_on=(KafkaError, OSError),
            backoff=Backoff(0.5, 10.0),
            describe=why,
        )
        self._connected.set()

    async def get(self, wait_s: float = 10.0) -> Any:
        """The connected producer; raises TimeoutError if Kafka stays away for `wait_s`."""
        await asyncio.wait_for(asyncio.shield(self._connected.wait()), wait_s)
        return self._producer

    async def send(self, topic: str, value: bytes, **kwargs: Any) -> asyncio.Future[Any]:
        """AIOKafkaProducer.send on the connected producer: the delivery future."""
        producer = await self.get()
        future: asyncio.Future[Any] = await producer.send(topic, value, **kwargs)
        future.add_done_callback(_retrieve)
        return future

    async def send_and_wait(self, topic: str, value: bytes, **kwargs: Any) -> Any:
        """AIOKafkaProducer.send_and_wait on the connected producer: the record's metadata."""
        return await (await self.send(topic, value, **kwargs))

    async def reset(self) -> None:
        """Drop the connected producer, failing the sends it still holds, and reconnect in the
        background. A no-op while (re)connecting."""
        producer = self._producer
        if producer is None:
            return
        self._producer = None
        self._connected.clear()
        self._task = asyncio.create_task(self._connect(), name=f"connect-{self.what}")
        await close_producer(producer, within=1.0, flush=False)

    async def stop(self, within: float = 3.0) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._producer is not None:
            producer, self._producer = self._producer, None
            self._connected.clear()
            await close_producer(producer, within=within)


class KafkaProbe(PeriodicProbe):
    """Whether the cluster answers a metadata request, checked every `interval` seconds (with
    backoff while it does not). Logs once per state change; `on_down` runs when it goes away.
    A `failsafe.kit.service.Service`, ready while the cluster answers."""

    name = "kafka"

    def __init__(
        self,
        client: ClientOptions,
        *,
        interval: float = 2.0,
        wait_s: float = 3.0,
        on_down: Any = None,
    ) -> None:
        super().__init__(interval)
        self.client = client
        self.wait_s = wait_s
        self.on_down = on_down
        self._outage = OutageLog(log, "Kafka")

    async def check(self) -> bool:
        failure = await kafka_check(self.client, self.wait_s)
        ok = failure is None
        was_up = self.up
        self.up = ok
        if ok:
            self._outage.recovered()
        else:
            self._outage.failed(f"metadata request failed ({failure})")
            if was_up and self.on_down is not None:
                try:
                    await self.on_down()
                except Exception:  # the probe must outlive its callback
                    log.warning("Kafka outage handler failed", exc_info=True)
        return ok
