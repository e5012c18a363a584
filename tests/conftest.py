"""Shared fixtures. Unit tests need no services; integration tests get the real PostgreSQL and
Kafka that scripts/test.sh starts, and fail (never skip) when they are missing."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from failsafe.db import migrate
from failsafe.db.engine import create_engine
from failsafe.settings import DatabaseSettings

if TYPE_CHECKING:
    from tests.integration.alerts.factories import RunningApp

PG_ENV = "FAILSAFE_TEST_PG"  # e.g. postgresql://failsafe:failsafe@127.0.0.1:15432
KAFKA_ENV = "FAILSAFE_TEST_KAFKA"  # e.g. 127.0.0.1:19092


def _require(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(
            f"{name} is not set: integration tests need the real services. "
            "Run them with scripts/test.sh (or `make test`), which starts PostgreSQL and Kafka.",
            pytrace=False,
        )
    return value


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


async def create_database(server: str, name: str) -> str:
    """Create a new, empty PostgreSQL database and return its asyncpg SQLAlchemy URL."""
    conn = await asyncpg.connect(f"{server}/postgres")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"{server.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"


async def drop_database(server: str, name: str) -> None:
    conn = await asyncpg.connect(f"{server}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_server() -> str:
    return _require(PG_ENV).rstrip("/")


@pytest_asyncio.fixture(scope="session")
async def pg_url(pg_server: str) -> AsyncIterator[str]:
    """A migrated PostgreSQL database for this test run (one per run, dropped at the end)."""
    name = unique_name("failsafe_test")
    url = await create_database(pg_server, name)
    await asyncio.to_thread(migrate.upgrade, url)
    yield url
    await drop_database(pg_server, name)


@pytest_asyncio.fixture(scope="session")
async def pg_engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(DatabaseSettings(url=pg_url))
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture
async def db_session(pg_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session inside a transaction that is rolled back after the test; the code under test may
    commit (commits become savepoints)."""
    async with pg_engine.connect() as conn:
        trans = await conn.begin()
        session = AsyncSession(
            bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        try:
            yield session
        finally:
            await session.close()
            await trans.rollback()


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """The real broker's bootstrap servers (started by scripts/test.sh)."""
    return _require(KAFKA_ENV)


@pytest.fixture
def unique_topic() -> Callable[[str], str]:
    """Topic names unique to the calling test, so tests never see each other's messages."""
    return lambda base: f"{base}.{uuid.uuid4().hex[:10]}"


@pytest_asyncio.fixture
async def fresh_pg_url(pg_server: str) -> AsyncIterator[str]:
    """A migrated PostgreSQL database of this test's own (for tests that load the whole list)."""
    name = unique_name("failsafe_t")
    url = await create_database(pg_server, name)
    await asyncio.to_thread(migrate.upgrade, url)
    yield url
    await drop_database(pg_server, name)


@pytest_asyncio.fixture
async def app(fresh_pg_url: str) -> AsyncIterator[RunningApp]:
    """`failsafe serve`'s app on a fresh migrated PostgreSQL, served by uvicorn on a free port
    (the alert API, hub and dashboard tests)."""
    from tests.integration.alerts.factories import running_app, settings_for

    async with running_app(settings_for(fresh_pg_url)) as running:
        yield running
