"""The hub's unit tests: a throwaway SQLite database (the source of truth the hub fills gaps
from) and a hub started on the in-memory bus, as `serve` runs it in the embedded mode."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from failsafe.db import counters
from failsafe.db.base import Base
from failsafe.db.models import Counter
from failsafe.hub.service import Hub
from failsafe.kit.bus import MemoryAlertBus


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    maker = async_sessionmaker(engine, expire_on_commit=False)
    async with maker() as session:
        session.add(Counter(name=counters.ALERT_ID, value=0))
        await session.commit()
    yield maker
    await engine.dispose()


async def started(sessions: async_sessionmaker[AsyncSession], bus: MemoryAlertBus) -> Hub:
    """A hub reading `bus`, ready, its consumer subscribed."""
    hub = Hub(sessions, bus, gap_timeout=0.05, poll_interval=30.0)
    await hub.start()
    assert hub.ready
    async with asyncio.timeout(5):
        while not bus.subscribers:  # the consumer subscribes in a task of its own
            await asyncio.sleep(0)
    return hub
