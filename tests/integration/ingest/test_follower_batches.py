"""The follower's first load in batches (`WatchlistFollower.batch`): every batch goes to the
index's bulk path, and the neighbour table is built once, by the last batch, not kept up to date
by each (a fresh PostgreSQL database, so the rows are exactly this test's)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import pytest

from failsafe.db import migrate
from failsafe.db.engine import create_engine, create_sessionmaker
from failsafe.ingest.follower import WatchlistFollower
from failsafe.matching import WatchlistIndex
from failsafe.matching.blocking import similar_tokens
from failsafe.settings import DatabaseSettings
from tests.conftest import create_database, drop_database, unique_name
from tests.fixtures.factories import entry_doc, put_entry

pytestmark = pytest.mark.integration

SURNAMES = ["PETROV", "PETROVA", "SORENSEN", "SOORENSEN", "BARAKAT", "BARKAT", "MOWAFI"]


class CallsIndex(WatchlistIndex):
    """The real index (with a table from the first token), noting each bulk load."""

    def __init__(self) -> None:
        super().__init__()
        self.neighbour_table_min = 0
        self.bulk: list[tuple[int, bool, bool]] = []  # (entries, more, table held after)

    def add_many(self, entries: Iterable[Any], more: bool = False) -> int:
        entries = list(entries)
        n = super().add_many(entries, more)
        self.bulk.append((len(entries), more, self._neighbours is not None))
        return n


@pytest.mark.parametrize(("count", "expected"), [
    (7, [(3, True, False), (3, True, False), (1, False, True)]),
    # A last full batch: the empty read after it finishes the load.
    (6, [(3, True, False), (3, True, False), (0, False, True)]),
])
async def test_the_table_is_built_once_by_the_last_batch(
    pg_server: str, count: int, expected: list[tuple[int, bool, bool]]
) -> None:
    name = unique_name("failsafe_batches")
    url = await create_database(pg_server, name)
    engine = create_engine(DatabaseSettings(url=url))
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        sessions = create_sessionmaker(engine)
        for k in range(count):
            await put_entry(sessions, entry_doc(SURNAMES[k], "IVAN", dob="1970-03-14",
                                                entry_id=f"e{k}"))
        index = CallsIndex()
        follower = WatchlistFollower(sessions, index, batch=3)
        assert await follower.load() == count
        assert index.bulk == expected
        assert len(index) == count
        table = index._neighbours
        assert table is not None and len(table) == len(index._vtok)
        assert all(table[v] == similar_tokens(t, index._vocab, index._buckets, index.params)
                   for v, t in enumerate(index._vtok))
        found = index.screen({"event_id": "x", "traveller": {
            "surname": "SORENSEN", "given_names": "IVAN", "date_of_birth": "1970-03-14"}})
        assert {"e2", "e3"} <= {m.entry_id for m in found}  # SORENSEN and its typo
    finally:
        await engine.dispose()
        await drop_database(pg_server, name)
