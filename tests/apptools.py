"""Running the real app in a test: lifespan, an ASGI client, principals with tokens; `failsafe
serve` as its own process (its stderr kept in a file the suite's log scan reads)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2

from failsafe.actor import CLI_ACTOR
from failsafe.app import create_app
from failsafe.auth.service import create_principal
from failsafe.ingest.service import ScreeningService
from failsafe.kit.state import AppState
from failsafe.settings import Settings
from tests.conftest import subprocess_log

FAILSAFE = str(Path(sys.executable).parent / "failsafe")


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[tuple[httpx2.AsyncClient, AppState]]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client, app.state.failsafe


async def token(state: AppState, role: str, bureau: str | None) -> dict[str, str]:
    async with state.sessionmaker() as session:
        _, tok = await create_principal(
            session, role=role, bureau_code=bureau, name=f"{role} {bureau}", actor=CLI_ACTOR
        )
    return {"Authorization": f"Bearer {tok}"}


async def wait_ready(state: AppState) -> None:
    screening = state.services.get(ScreeningService)
    async with asyncio.timeout(10):
        while not screening.ready:
            await asyncio.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def serve_process(
    env: dict[str, str], port: int, log: Path | None = None
) -> AsyncIterator[str]:
    """`failsafe serve` as its own process; yields its base URL once /readyz answers 200. Its
    stderr goes to `log` (default: a new file of tests.conftest.subprocess_log)."""
    log = log or subprocess_log("serve")
    with log.open("ab") as err:
        proc = subprocess.Popen(
            [FAILSAFE, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx2.AsyncClient(base_url=base, timeout=2) as http, asyncio.timeout(60):
            while True:
                if proc.poll() is not None:
                    tail = log.read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"serve exited with {proc.returncode}: {tail}")
                with contextlib.suppress(httpx2.HTTPError):
                    if (await http.get("/readyz")).status_code == 200:
                        break
                await asyncio.sleep(0.1)  # polling a separate process's readiness
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(proc.wait, 20)
        except subprocess.TimeoutExpired:
            proc.kill()
            await asyncio.to_thread(proc.wait, 10)
