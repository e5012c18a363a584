"""Keeps a process's matcher in step with the watchlist by following the global revision.

Every watchlist change bumps a commit-ordered, gap-free revision (failsafe.db.counters), so
"everything with revision > last seen" never skips a change. Polling every 200 ms keeps the lag
well under the 1 s the design asks for, on PostgreSQL and SQLite alike, with one indexed query.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from failsafe.contract import EntryDoc
from failsafe.db.base import utcnow
from failsafe.db.models import WatchlistEntry
from failsafe.ingest import metrics
from failsafe.ingest.screener import Screener
from failsafe.kit.retry import Backoff, OutageLog, retry
from failsafe.kit.service import BackgroundTask

log = logging.getLogger(__name__)


def entry_document(row: Any) -> EntryDoc:
    """The entry as the matcher and alerts see it, from a WatchlistEntry row (or its columns)."""
    # The columns are authoritative for what routing and alerts read.
    doc = {
        **row.document,
        "id": row.id,
        "version": row.version,
        "status": row.status,
        "owner_bureau": row.owner_bureau,
    }
    # The stored document is contract JSON, validated when it was written (EntryIn).
    return cast(EntryDoc, doc)


def is_live(row: Any, now: datetime) -> bool:
    return row.status == "active" and (row.expires_at is None or row.expires_at > now)


class WatchlistFollower:
    """A `failsafe.kit.service.Service`: `start` follows in the background, ready once loaded."""

    name = "watchlist"

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        screener: Screener,
        interval: float = 0.2,
        batch: int = 20_000,
    ) -> None:
        self.sessions = sessions
        self.screener = screener
        self.interval = interval
        self.batch = batch
        self.revision = 0
        self.entries: dict[str, EntryDoc] = {}
        self.ready = False
        self._task = BackgroundTask("watchlist-follower")
        # Entries with an expiry, to drop them when it passes without waiting for a change.
        self._expiries: dict[str, datetime] = {}

    async def load(self) -> int:
        """Catch up from where we are (revision 0 at first); returns the changes applied."""
        applied = 0
        while True:
            n = await self.poll_once()
            applied += n
            if n < self.batch:
                break
        self.ready = True
        return applied

    async def poll_once(self) -> int:
        t = WatchlistEntry
        async with self.sessions() as session:
            # Plain rows, not ORM objects: the initial load reads the whole list.
            rows = (
                await session.execute(
                    select(
                        t.id,
                        t.status,
                        t.version,
                        t.revision,
                        t.owner_bureau,
                        t.expires_at,
                        t.document,
                    )
                    .where(t.revision > self.revision)
                    .order_by(t.revision)
                    .limit(self.batch)
                )
            ).all()
        now = utcnow()
        live: list[EntryDoc] = []
        for row in rows:
            doc = self._apply(row, now)
            if doc is not None:
                live.append(doc)
            self.revision = max(self.revision, row.revision)
        more = len(rows) >= self.batch
        if not self.ready and (len(live) > 1 or not more):
            # The initial load: the index's bulk path, several times faster than one by one
            # (safe here: no query runs until the load is over). Batches that more follow
            # leave the neighbour table to the last one (even an empty one): built once, not
            # kept up to date by every batch.
            self.screener.add_many(live, more=more)
        else:
            for doc in live:
                self.screener.upsert(doc)
        self._expire(now)
        metrics.WATCHLIST_REVISION.set(self.revision)
        return len(rows)

    def _apply(self, row: Any, now: datetime) -> EntryDoc | None:
        """Book-keep one changed entry; return its document when it is to be (re)indexed."""
        if is_live(row, now):
            doc = entry_document(row)
            self.entries[row.id] = doc
            if row.expires_at is not None:
                self._expiries[row.id] = row.expires_at
            else:
                self._expiries.pop(row.id, None)
            return doc
        if row.id in self.entries:
            self.screener.remove(row.id)
            del self.entries[row.id]
            self._expiries.pop(row.id, None)
        return None

    def _expire(self, now: datetime) -> None:
        for entry_id in [e for e, at in self._expiries.items() if at <= now]:
            self.screener.remove(entry_id)
            self.entries.pop(entry_id, None)
            del self._expiries[entry_id]

    async def _catch_up(self) -> None:
        while await self.poll_once() >= self.batch:
            pass

    async def _not_ready(self, _exc: Exception) -> None:
        self.ready = False

    async def run(self) -> None:
        backoff = Backoff(self.interval, 5.0)
        outage = OutageLog(log, "watchlist follower: database")
        while True:
            # Any failure: the database may be away; keep trying, not ready meanwhile.
            await retry(self._catch_up, outage=outage, backoff=backoff, on_failure=self._not_ready)
            backoff.reset()
            self.ready = True
            await asyncio.sleep(self.interval)

    async def start(self) -> None:
        self._task.start(self.run)

    async def stop(self) -> None:
        await self._task.stop()
