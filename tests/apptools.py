"""Running the real app in a test: lifespan, an ASGI client, principals with tokens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2

from failsafe.app import create_app
from failsafe.auth.service import CLI_ACTOR, create_principal
from failsafe.kit.state import AppState
from failsafe.settings import Settings


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
    screening = state.services["screening"]
    async with asyncio.timeout(10):
        while not screening.ready:
            await asyncio.sleep(0.05)
