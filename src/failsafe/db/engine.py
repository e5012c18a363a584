"""Engine and session factory from settings; SQLite gets the pragmas an embedded server needs."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from failsafe.settings import DatabaseSettings


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    kwargs: dict[str, Any] = {
        "echo": settings.echo,
        # orjson: several times faster than json on the entry and alert documents.
        "json_serializer": lambda obj: orjson.dumps(obj).decode(),
        "json_deserializer": orjson.loads,
    }
    if is_sqlite(settings.url):
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs.update(
            pool_size=settings.pool_size, max_overflow=settings.pool_size, pool_pre_ping=True
        )
    engine = create_async_engine(settings.url, **kwargs)
    if is_sqlite(settings.url):

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
