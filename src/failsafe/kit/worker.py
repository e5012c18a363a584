"""What the Kafka worker processes share (`failsafe ingest`, `failsafe ingest-alarms`): the
`Worker` protocol, running one under SIGTERM/SIGINT with its /metrics, /healthz and /readyz
endpoint, the commit of a batch's offsets, and a PostgreSQL probe for a worker's readiness.

Invariants:
- A worker is anything with `ready`, `run()` and `request_stop()`; `run_worker` knows nothing
  else of it, so both workers are served, probed and stopped the same way.
- /healthz answers 200 while the process's event loop runs (liveness: nothing else is asked);
  /readyz answers 200 exactly when `worker.ready`, 503 otherwise; /metrics is the process's
  whole default registry. Any other path is a 404. The endpoint reads only the request line and
  the headers (no body, nothing logged), and answers each connection once then closes it.
- `failsafe_ready` (failsafe.kit.metrics.READY) is the worker's `ready`, read at each scrape.
- The endpoint is closed when `run()` returns or raises (MissingTopics, a bug): a process that
  stops working stops answering.
- `commit_offsets` never raises for a rebalance: the batch is then replayed by the partitions'
  new owner, which the workers' idempotent recording makes harmless.
- `DatabaseProbe` is ready exactly while its last `select 1` answered within its bound; it
  logs once per state change (failsafe.kit.retry.OutageLog), never per attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer
from aiokafka.errors import CommitFailedError, IllegalStateError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from failsafe.kit import metrics as kit_metrics
from failsafe.kit.retry import OutageLog
from failsafe.kit.service import PeriodicProbe

log = logging.getLogger(__name__)


_REQUEST_TIMEOUT = 10.0  # seconds for a client to send its request to the worker endpoint


class Worker(Protocol):
    """A long-running consumer process: `run()` until `request_stop()`; `ready` for /readyz."""

    @property
    def ready(self) -> bool: ...

    async def run(self) -> None: ...

    def request_stop(self) -> None: ...


async def serve_metrics(worker: Worker, host: str, port: int) -> asyncio.Server:
    """A tiny HTTP endpoint for /metrics, /healthz and /readyz of a worker process. A request
    line or header over the stream's 64 KiB limit gets 400; a client that has not sent its
    request within _REQUEST_TIMEOUT seconds is disconnected (a probe is never that slow)."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    def route(path: str) -> tuple[str, str, bytes]:
        if path == "/metrics":
            return "200 OK", CONTENT_TYPE_LATEST, generate_latest()
        if path == "/healthz":
            return "200 OK", "application/json", b'{"status":"ok"}'
        if path == "/readyz":
            if worker.ready:
                return "200 OK", "application/json", b'{"status":"ready"}'
            return "503 Service Unavailable", "application/json", b'{"status":"not_ready"}'
        return "404 Not Found", "text/plain", b"not found"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                async with asyncio.timeout(_REQUEST_TIMEOUT):
                    line = (await reader.readline()).decode(errors="replace")
                    while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                        pass
            except ValueError:  # a line over the limit (asyncio's LimitOverrunError)
                status, ctype, body = "400 Bad Request", "text/plain", b"request too large"
            except (TimeoutError, ConnectionError):
                return
            else:
                status, ctype, body = route(line.split(" ")[1] if line.count(" ") >= 2 else "/")
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: "
                f"{len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            with contextlib.suppress(ConnectionError, TimeoutError):
                await writer.drain()
                if status.startswith("400"):
                    # Read what is left before closing, or the close resets the connection
                    # and the client may lose the answer.
                    writer.write_eof()
                    async with asyncio.timeout(_REQUEST_TIMEOUT):
                        while await reader.read(65536):
                            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)


async def run_worker(worker: Worker, metrics_host: str, metrics_port: int | None) -> None:
    """Run `worker` until SIGTERM or SIGINT asks it to stop (it then finishes its batch), with
    its endpoint on `metrics_host:metrics_port` when a port is given."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, worker.request_stop)
    server = await serve_metrics(worker, metrics_host, metrics_port) if metrics_port else None
    kit_metrics.READY.set_function(lambda: float(worker.ready))  # ops: readiness for alerts
    try:
        await worker.run()
    finally:
        if server is not None:
            server.close()


async def commit_offsets(consumer: AIOKafkaConsumer, offsets: dict[Any, int]) -> None:
    """Commit exactly `offsets` (the next offset per partition of the batch just processed)."""
    try:
        await consumer.commit(offsets)
    except (CommitFailedError, IllegalStateError):
        # The group moved on (partitions reassigned): the new owner replays the batch, which is
        # harmless (idempotent records, at-least-once publication). Other Kafka errors are
        # retried by the caller until the broker is back.
        log.warning("offset commit refused after a rebalance; batch will be replayed")


class DatabaseProbe(PeriodicProbe):
    """Whether PostgreSQL answers `select 1`, checked every `interval` seconds (with backoff
    while it does not). A `failsafe.kit.service.Service`, ready while the database answers: for
    a worker whose own work may not touch the database for hours (radiation alarms are rare),
    so that /readyz says so when it is away."""

    name = "database"

    def __init__(self, engine: AsyncEngine, *, interval: float = 2.0, wait_s: float = 3.0) -> None:
        super().__init__(interval)
        self.engine = engine
        self.wait_s = wait_s
        self._outage = OutageLog(log, "PostgreSQL")

    async def ping(self) -> None:
        """`select 1` within `wait_s`; raises what failed (for a caller that retries)."""
        async with asyncio.timeout(self.wait_s), self.engine.connect() as conn:
            await conn.execute(text("select 1"))

    async def check(self) -> bool:
        try:
            await self.ping()
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            self.up = False
            self._outage.failed(exc)  # its type only: a message may quote the URL
            return False
        self.up = True
        self._outage.recovered()
        return True
