"""failsafe.kit.worker against a worker twin: any object with `ready`, `run()` and
`request_stop()` is served the same way (/healthz, /readyz from its `ready`, /metrics with
`failsafe_ready`), and the endpoint closes when `run()` ends, also by an error."""

from __future__ import annotations

import asyncio

import httpx2
import pytest
from prometheus_client import REGISTRY

from failsafe.kit.worker import Worker, run_worker
from tests.fixtures.app import free_port
from tests.fixtures.waiting import eventually


class TwinWorker:
    def __init__(self, fails: bool = False) -> None:
        self.ready = False
        self.fails = fails
        self._stop = asyncio.Event()

    async def run(self) -> None:
        await self._stop.wait()
        if self.fails:
            raise RuntimeError("a bug")

    def request_stop(self) -> None:
        self._stop.set()


async def _refused(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return True
    writer.close()
    return False


async def test_any_worker_is_probed_by_its_ready_flag() -> None:
    twin = TwinWorker()
    worker: Worker = twin  # the protocol is all run_worker needs
    port = free_port()
    task = asyncio.create_task(run_worker(worker, "127.0.0.1", port))
    async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as http:

        async def up() -> bool:
            try:
                return (await http.get("/healthz")).status_code == 200
            except httpx2.HTTPError:
                return False

        await eventually(up, what="endpoint up")
        assert (await http.get("/readyz")).status_code == 503
        assert REGISTRY.get_sample_value("failsafe_ready") == 0.0
        twin.ready = True
        assert (await http.get("/readyz")).json() == {"status": "ready"}
        assert "\nfailsafe_ready 1.0\n" in (await http.get("/metrics")).text
        assert (await http.get("/v1/alerts")).status_code == 404
    twin.request_stop()
    await asyncio.wait_for(task, 5)
    assert await _refused(port)


async def test_the_endpoint_closes_when_the_worker_fails() -> None:
    twin = TwinWorker(fails=True)
    port = free_port()
    task = asyncio.create_task(run_worker(twin, "127.0.0.1", port))
    await eventually(lambda: _not_refused(port), what="endpoint up")
    twin.request_stop()
    with pytest.raises(RuntimeError, match="a bug"):
        await asyncio.wait_for(task, 5)
    assert await _refused(port)


async def _not_refused(port: int) -> bool:
    return not await _refused(port)


async def test_the_endpoint_answers_junk_and_drops_slow_clients(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from failsafe.kit import worker as kit_worker

    monkeypatch.setattr(kit_worker, "_REQUEST_TIMEOUT", 0.3)
    twin = TwinWorker()
    twin.ready = True
    server = await kit_worker.serve_metrics(twin, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    errors: list[dict[str, object]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: errors.append(ctx))

    async def ask(data: bytes, eof: bool = True) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(data)
        if eof:
            writer.write_eof()
        try:
            return await asyncio.wait_for(reader.read(), 5)
        finally:
            writer.close()

    try:
        # A request line over the 64 KiB limit: 400, not a traceback.
        huge = await ask(b"GET /" + b"A" * 200_000 + b" HTTP/1.1\r\n\r\n")
        assert huge.startswith(b"HTTP/1.1 400 ")
        assert (await ask(b"\x00\xff\r\n\r\n")).startswith(b"HTTP/1.1 404 ")
        # A client that never finishes its request is disconnected, not waited on forever.
        assert await ask(b"GET /readyz HTTP/1.1\r\n", eof=False) == b""
        # ... and the endpoint still answers.
        assert (await ask(b"GET /readyz HTTP/1.1\r\n\r\n")).startswith(b"HTTP/1.1 200 ")
    finally:
        server.close()
        await server.wait_closed()
    assert errors == []
